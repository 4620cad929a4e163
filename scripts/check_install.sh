#!/usr/bin/env bash
# Prove that a non-editable `pip install` works: clone the repo's HEAD, install it into a fresh
# venv, then from an unrelated empty folder train one run and one two-cell sweep. conf/ and
# sweeps/ must travel inside the package for this to pass (a checkout would find its own).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git clone -q "$repo" "$tmp/clone"
git -C "$tmp/clone" checkout -q "$(git -C "$repo" rev-parse HEAD)"
python -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q "$tmp/clone"
rm -rf "$tmp/clone"  # the installed package alone must be enough

mkdir "$tmp/elsewhere" && cd "$tmp/elsewhere"
py="$tmp/venv/bin/python"
"$py" -m src.train trainer.epochs=1 logger=none hydra.run.dir=run
test -s run/metrics.json
"$py" -m src.train sweep=bs_lr trainer.epochs=1 logger=none hydra.sweep.dir=sweep \
  "hydra.sweeper.params={trainer.batch_size: '64', optimizer.lr: '0.1,1'}"
grep -q "^2 cells" sweep/phase_map.md
echo "check_install: non-editable install ran one run and a 2-cell sweep"
