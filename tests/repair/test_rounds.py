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
    runs = [make_run(tmp_path, [f"trainer.batch_size={bs}", "optimizer.lr=1e-4"],
                     result("stalled", 0.1, LOW)) for bs in (4, 16)]  # fmt: skip
    launcher = ScriptedLauncher(lambda _: result("converged", 0.9))
    repair_rounds(failed_runs(runs), tries=3, launch=launcher)
    assert [len(jobs) for jobs in launcher.rounds] == [2]


def test_cells_given_the_same_fix_share_one_attempt(tmp_path, capsys):
    # lr 1e-4 and 1e-3 both get lr=0.1: the same run, trained once for both.
    runs = [make_run(tmp_path, [f"optimizer.lr={lr}"], result("stalled", 0.1, LOW))
            for lr in ("1e-4", "1e-3")]  # fmt: skip
    launcher = ScriptedLauncher(lambda _: result("converged", 0.9))
    repairs = failed_runs(runs)
    repair_rounds(repairs, tries=3, launch=launcher)
    ((job,),) = launcher.rounds
    assert job == (tmp_path / REPAIRS / f"{runs[0].name}.repair1", ["optimizer.lr=0.1"])
    assert [r.folders for r in repairs] == [[job[0]], [job[0]]]
    assert [r.stop for r in repairs] == ["converged", "converged"]
    expected = (f"round 1: 1 attempt into {tmp_path / REPAIRS} (for 2 failed runs: the same "
                "overrides train once)")  # fmt: skip
    assert expected in capsys.readouterr().out.splitlines()
    again = ScriptedLauncher(lambda _: result("converged", 0.9))
    repair_rounds(failed_runs(runs), tries=3, launch=again)  # resumes: nothing to train
    assert again.rounds == []


def two_cells_meeting_in_round_2(tmp_path):
    """Cell a gets lr=0.1 in round 1; cell b gets batch size 16 first, then lr=0.1 on top: the
    overrides of a's attempt, in another order."""
    a = make_run(tmp_path, ["trainer.batch_size=16", "optimizer.lr=1e-4"],
                 result("stalled", 0.1, LOW))  # fmt: skip
    too_few = finding("too_few_updates", "trainer.batch_size=16")
    b = make_run(tmp_path, ["trainer.batch_size=1437", "optimizer.lr=1e-4"],
                 result("stalled", 0.1, too_few))  # fmt: skip
    return a, b


def test_an_attempt_done_in_an_earlier_round_is_not_trained_again(tmp_path):
    a, b = two_cells_meeting_in_round_2(tmp_path)

    def answer(overrides):
        done = "optimizer.lr=0.1" in overrides
        return result("converged", 0.9) if done else result("learning", 0.5, LOW)

    launcher = ScriptedLauncher(answer)
    repairs = failed_runs([a, b])
    repair_rounds(repairs, tries=3, launch=launcher)
    assert [[folder.name for folder, _ in jobs] for jobs in launcher.rounds] == [
        [f"{a.name}.repair1", f"{b.name}.repair1"]
    ]
    assert repairs[1].folders == [tmp_path / REPAIRS / f"{b.name}.repair1", repairs[0].folders[0]]
    assert repairs[1].outcomes() == ["learning", "converged"]


def test_an_attempt_that_errored_is_not_shared_with_a_later_round(tmp_path):
    a, b = two_cells_meeting_in_round_2(tmp_path)
    errored = iter([True])

    def answer(overrides):
        if "optimizer.lr=0.1" in overrides:
            return {"outcome": "error"} if next(errored, False) else result("converged", 0.9)
        return result("learning", 0.5, LOW)

    launcher = ScriptedLauncher(answer)
    repairs = failed_runs([a, b])
    repair_rounds(repairs, tries=3, launch=launcher)
    assert [[folder.name for folder, _ in jobs] for jobs in launcher.rounds] == [
        [f"{a.name}.repair1", f"{b.name}.repair1"],
        [f"{b.name}.repair2"],
    ]
    assert [r.outcomes()[-1] for r in repairs] == ["error", "converged"]


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
