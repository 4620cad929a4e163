"""The sweep benchmark runs end to end in its quickest mode and writes well-formed tables.

A smoke test only: nothing here looks at a time (benchmarks never gate CI on speed).
"""

from __future__ import annotations

import pytest

from benchmarks import sweep


def tables(text: str) -> dict[str, list[list[list[str]]]]:
    """The Markdown tables under each heading: rows of cells, header first, separator dropped."""
    found: dict[str, list[list[list[str]]]] = {}
    heading, previous = "", ""
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("# ").split(":")[0]
        elif line.startswith("|") and not line.startswith("|---"):
            if not previous.startswith("|"):
                found.setdefault(heading, []).append([])
            found[heading][-1].append([cell.strip() for cell in line.strip("|").split(" | ")])
        previous = line
    return found


@pytest.mark.slow  # ~30 s: four 4-cell sweeps and 3 repeats of each single run, as subprocesses
def test_quick_run_writes_every_table(tmp_path, capsys) -> None:
    out = tmp_path / "sweep.md"
    sweep.main(["--quick", "--out", str(out)])
    text = out.read_text()
    found = tables(text)
    assert set(found) == {"Targets", "Sweeps", "The default run (`python -m src.train`)",
                          "Divergence"}  # fmt: skip
    for table in (table for group in found.values() for table in group):
        assert len(table) > 1 and len({len(row) for row in table}) == 1  # rows as wide as header
    (targets,) = found["Targets"]
    assert len(targets) == 1 + 8
    assert all(row[2] in ("met", "**missed**") or row[2].startswith("n/a") for row in targets[1:])
    sweeps, by_batch = found["Sweeps"]
    assert [row[0] for row in sweeps[1:]] == list(sweep.SWEEPS)
    assert by_batch[0][0] == "batch"
    logging, diagnosis = found["The default run (`python -m src.train`)"]
    assert [row[0] for row in logging[1:]] == list(sweep.SINGLES)
    assert [row[0] for row in diagnosis[1:]] == ["train() in-process", "whole command"]
    divergence = {row[0]: row for row in found["Divergence"][0][1:]}
    assert divergence["optimizer.lr=50"][1] == "diverged"
    assert divergence["optimizer.lr=0.01"][1] == "converged"
    assert text in capsys.readouterr().out
