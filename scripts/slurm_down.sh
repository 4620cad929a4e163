#!/usr/bin/env bash
# Stop the single-node SLURM cluster that scripts/slurm_up.sh started: slurmd, slurmctld, then
# munged, each by its pid file. Daemons that are not running are skipped; safe to run twice.
# --keep-munge leaves munged running (slurm_up.sh uses it to restart SLURM after a new slurm.conf).
set -euo pipefail

RUN_DIR=/run/slurm

# Stop the process in pid file $1 if it is alive and named $2: TERM, then KILL after 15 s.
stop() {
  local pidfile=$1 name=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    rm -f "$pidfile"  # stale: its process is gone (or the pid now belongs to another)
    return 0
  fi
  echo "slurm_down: stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.1
  done
  echo "slurm_down: $name did not stop within 15 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

stop "$RUN_DIR/slurmd.pid" slurmd
stop "$RUN_DIR/slurmctld.pid" slurmctld
if [ "${1:-}" != "--keep-munge" ]; then
  stop /run/munge/munged.pid munged
fi
