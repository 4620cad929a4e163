"""The trainer benchmark runs end to end and its three implementations do the same work.

A smoke test only: nothing here looks at a time (benchmarks never gate CI on speed).
"""

from __future__ import annotations

import pytest

from benchmarks import trainer


@pytest.mark.slow  # ~5 s of timing loops, more with torch installed
def test_benchmark_writes_a_table_whose_losses_agree(tmp_path, capsys) -> None:
    out = tmp_path / "trainer.md"
    args = ["--nets", "digits", "--batches", "32", "--threads", "1", "--repeats", "1", "--quick"]
    trainer.main([*args, "--out", str(out)])
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| MLP 64-100-10"))
    delta = float(row.split(" | ")[11])  # same weights, same order: same mean loss
    assert delta < 1e-4
    assert "Targets met in" in text and row in capsys.readouterr().out
