"""TensorBoard as a user sees it: a real viewer on a small sweep, read by headless Chromium.

`chromium --dump-dom` prints the page without TensorBoard's dashboards (they live in shadow
roots), so the test drives Chromium over its DevTools pipe (`tests/sweep/browser.py`) and reads
the rendered text through the shadow roots. The screenshots it takes are the ones in docs/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.sweep.browser import Browser, chromium

ROOT = Path(__file__).resolve().parents[2]
TENSORBOARD = shutil.which("tensorboard")
GRID = ["activation=relu,sigmoid", "trainer.batch_size=16,64", "optimizer.lr=0.01,0.5,3",
        "loss=mse", "trainer.epochs=3", "logger.log_every=1"]  # fmt: skip
LAYER_TAGS = [f"{kind}/{layer}.Dense.W" for kind in ("grad_norm", "weight_norm", "update_ratio")
              for layer in (1, 3)]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium() is None, reason="needs Chromium: apt-get install chromium"),
    pytest.mark.skipif(TENSORBOARD is None, reason="needs the viewer: pip install tensorboard"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tensorboard(logdir: Path, port: int) -> subprocess.Popen:
    """The viewer on 127.0.0.1, once it answers HTTP (or fails the test)."""
    server = subprocess.Popen(
        [TENSORBOARD, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except OSError:
            assert server.poll() is None, "tensorboard exited before serving"
            time.sleep(0.5)
    server.kill()
    pytest.fail("tensorboard did not answer within 120 s")


def table_rows(text: str, trials: list[str]) -> dict[str, list[str]]:
    """Each trial's cells in the HParams table: the text from its ID to the next trial's."""
    lines = text.splitlines()
    starts = sorted((lines.index(t), t) for t in trials if t in lines)
    ends = [i for i, _ in starts[1:]] + [len(lines)]
    return {trial: lines[i + 1 : end] for (i, trial), end in zip(starts, ends)}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    proc = subprocess.run(
        [sys.executable, "-m", "src.train", "--multirun", *GRID, f"hydra.sweep.dir={folder}",
         "hydra.launcher.n_jobs=2"],
        cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return folder


@pytest.fixture(scope="module")
def board(sweep):
    port = free_port()
    server = start_tensorboard(sweep, port)
    try:
        with Browser(width=1400, height=900) as browser:
            yield browser, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()  # by the PID this test started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def outcomes(sweep: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("*/metrics.json")}


def test_hparams_table_lists_every_cell_with_its_outcome(board, sweep, tmp_path):
    browser, url = board
    cells = outcomes(sweep)
    assert len(cells) == 12 and {m["outcome"] for m in cells.values()} >= {"diverged"}
    browser.open(f"{url}/#hparams")
    text = browser.wait_for("Trial ID", *cells)
    rows = table_rows(text, list(cells))
    assert sorted(rows) == sorted(cells)  # every cell is a row
    for trial, metrics in cells.items():
        assert metrics["outcome"] in rows[trial], (trial, rows[trial])
    browser.screenshot(tmp_path / "tensorboard_hparams.png")


def test_images_tab_holds_the_phase_map(board):
    browser, url = board
    browser.open(f"{url}/#images")
    assert "sweep/phase_map" in browser.wait_for("sweep/phase_map")
    deadline = time.monotonic() + 60
    while not any(w > 400 and h > 300 for w, h in browser.image_sizes()):
        assert time.monotonic() < deadline, browser.image_sizes()
        time.sleep(0.5)


def test_scalars_of_a_diverged_run_show_the_per_layer_tags(board, sweep, tmp_path):
    browser, url = board
    diverged = {t: m for t, m in outcomes(sweep).items() if m["outcome"] == "diverged"}
    # The one that lasted the most epochs: its per-epoch norms are curves, not single points.
    run = max(diverged, key=lambda t: (diverged[t]["epochs_completed"], diverged[t]["steps"]))
    runs = f"regexInput={quote(run.replace('.', '[.]'))}"
    browser.open(f"{url}/#scalars&_smoothingWeight=0&tagFilter=Dense&{runs}")
    text = browser.wait_for(run, *LAYER_TAGS)
    assert all(tag in text for tag in LAYER_TAGS), text[-2000:]
    assert run in text
    # The picture: the loss and the output bias, the one parameter still moving as it blows up.
    tags = quote("train/loss|3\\.Dense\\.b")
    browser.open(f"{url}/#scalars&_smoothingWeight=0&tagFilter={tags}&{runs}")
    browser.wait_for("train/loss", "update_ratio/3.Dense.b")
    time.sleep(10)  # the charts draw after their tags appear
    browser.screenshot(tmp_path / "tensorboard_diverged_scalars.png")
