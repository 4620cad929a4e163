"""Repair rounds: what each attempt applies, when repairing stops, and --tries."""

from __future__ import annotations

from src.repair.attempts import REPAIRS
from src.repair.rounds import failed_runs, repair_rounds
from tests.repair.fake import ScriptedLauncher, finding, make_run, result

LOW = finding("learning_rate_too_low", "optimizer.lr=0.1")


def test_a_converged_run_gets_no_repair(tmp_path):
    make_run(tmp_path, ["optimizer.lr=0.1"], result("converged", 0.97))
    failed = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    repairs = failed_runs(sorted(p for p in tmp_path.iterdir()))
    assert [r.origin for r in repairs] == [failed]


def test_the_suggestion_is_applied_and_a_converged_attempt_stops(tmp_path):
    run = make_run(tmp_path, ["trainer.batch_size=16", "optimizer.lr=1e-4"],
                   result("stalled", 0.1, LOW))  # fmt: skip
    launcher = ScriptedLauncher(lambda overrides: result("converged", 0.95))
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=3, launch=launcher)
    (jobs,) = launcher.rounds  # one round: the first attempt converged
    folder, overrides = jobs[0]
    assert folder == tmp_path / REPAIRS / f"{run.name}.repair1"
    assert overrides == ["trainer.batch_size=16", "optimizer.lr=0.1"]
    assert repairs[0].stop == "converged"
    assert repairs[0].outcomes() == ["converged"]


def test_each_attempt_applies_its_own_diagnosis_on_top_of_the_last(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    next_fix = finding("too_few_epochs", "trainer.epochs=60")

    def answer(overrides):
        if "trainer.epochs=60" in overrides:
            return result("converged", 0.96)
        return result("learning", 0.6, next_fix)

    launcher = ScriptedLauncher(answer)
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=3, launch=launcher)
    assert [jobs[0][1] for jobs in launcher.rounds] == [
        ["optimizer.lr=0.1"],
        ["optimizer.lr=0.1", "trainer.epochs=60"],
    ]
    assert repairs[0].applied == ["optimizer.lr=0.1", "trainer.epochs=60"]
    assert repairs[0].outcomes() == ["learning", "converged"]


def test_tries_caps_the_attempts(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    lrs = iter(["0.3", "0.5", "0.7", "0.9"])
    launcher = ScriptedLauncher(
        lambda _: result(
            "learning", 0.5, finding("learning_rate_too_low", f"optimizer.lr={next(lrs)}")
        )
    )
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=2, launch=launcher)
    assert len(launcher.rounds) == 2
    assert [f.name for f in repairs[0].folders] == [f"{run.name}.repair1", f"{run.name}.repair2"]
    assert repairs[0].stop == "2 tries used"


def test_a_suggestion_already_applied_is_not_rerun(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    launcher = ScriptedLauncher(lambda _: result("learning", 0.5, LOW))  # lr=0.1 again
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=3, launch=launcher)
    assert len(launcher.rounds) == 1
    assert repairs[0].stop == "suggestion already applied"


def test_a_run_without_a_suggestion_or_with_an_error_is_not_attempted(tmp_path):
    unexplained = make_run(tmp_path, ["optimizer.lr=0.1"], result("learning", 0.6))
    broken = make_run(tmp_path, ["optimizer.lr=0.2"], {"outcome": "error", "error": "boom"})
    launcher = ScriptedLauncher(lambda _: result("converged", 0.9))
    repairs = failed_runs([unexplained, broken])
    repair_rounds(repairs, tries=3, launch=launcher)
    assert launcher.rounds == []
    assert [r.stop for r in repairs] == ["no suggestion", "error"]
    assert not (tmp_path / REPAIRS).exists()


def test_failed_cells_of_one_round_are_launched_together(tmp_path):
    runs = [make_run(tmp_path, [f"optimizer.lr={lr}"], result("stalled", 0.1, LOW))
            for lr in ("1e-4", "1e-3")]  # fmt: skip
    launcher = ScriptedLauncher(lambda _: result("converged", 0.9))
    repair_rounds(failed_runs(runs), tries=3, launch=launcher)
    assert [len(jobs) for jobs in launcher.rounds] == [2]


def test_a_second_repair_resumes_without_rerunning_finished_attempts(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    next_fix = finding("too_few_epochs", "trainer.epochs=60")

    def answer(overrides):
        fixed = "trainer.epochs=60" in overrides
        return result("converged", 0.96) if fixed else result("learning", 0.6, next_fix)

    repair_rounds(failed_runs([run]), tries=3, launch=ScriptedLauncher(answer))
    again = ScriptedLauncher(answer)
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=3, launch=again)
    assert again.rounds == []
    assert repairs[0].outcomes() == ["learning", "converged"]
    assert repairs[0].stop == "converged"


def test_an_attempt_left_by_other_suggestions_is_redone(tmp_path):
    run = make_run(tmp_path, ["optimizer.lr=1e-4"], result("stalled", 0.1, LOW))
    repair_rounds(failed_runs([run]), tries=1,
                  launch=ScriptedLauncher(lambda _: result("learning", 0.5)))  # fmt: skip
    (run / "metrics.json").write_text(
        (run / "metrics.json").read_text().replace("optimizer.lr=0.1", "optimizer.lr=0.3")
    )  # the diagnosis changed: attempt 1 now applies lr=0.3
    again = ScriptedLauncher(lambda _: result("converged", 0.9))
    repairs = failed_runs([run])
    repair_rounds(repairs, tries=1, launch=again)
    assert [jobs[0][1] for jobs in again.rounds] == [["optimizer.lr=0.3"]]
    assert repairs[0].outcomes() == ["converged"]


def test_an_attempt_recorded_in_another_order_is_not_redone(tmp_path):
    run = make_run(tmp_path, ["trainer.batch_size=16", "optimizer.lr=1e-4"],
                   result("stalled", 0.1, LOW))  # fmt: skip

    def sorted_by_key(jobs, launcher):  # a stack records its attempts' overrides sorted by key
        ScriptedLauncher(lambda _: result("learning", 0.5))(
            [(folder, sorted(overrides)) for folder, overrides in jobs], launcher
        )

    repair_rounds(failed_runs([run]), tries=1, launch=sorted_by_key)
    again = ScriptedLauncher(lambda _: result("converged", 0.9))
    repair_rounds(failed_runs([run]), tries=1, launch=again)
    assert again.rounds == []
