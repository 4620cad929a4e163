"""Mutation testing: change one thing in a module, run its fast tests, report what survives.

    python scripts/mutate.py                          # every target below (diagnosis rules last)
    python scripts/mutate.py src/loss.py              # one module, its default test selection
    python scripts/mutate.py src/loss.py --tests tests/test_loss.py --list   # mutants only

Each mutant is one edit of the module's syntax tree (operator swaps, comparison flips, constant
changes, a negated condition, a dropped statement, max <-> min); the module is rewritten from the
tree, so comments and layout differ from the original but nothing else does. Mutants run in two
copies of the repository (never in the working tree) with
`pytest -x -q -p no:cacheprovider -m "not slow" <tests>`; any test failure, import error or
timeout kills a mutant (a hang counts as killed and is reported as a timeout). Annotations
(the config schema, checked by the bad-input tests), docstrings, f-strings and other strings are
not mutated. Mutants listed in EQUIVALENT cannot change behaviour and are left out of the score.
"""

from __future__ import annotations

import os

# Before numpy loads: one BLAS thread per test run, two runs at a time at most.
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# Imported once here, inherited by every forked test run: the run then skips their start-up.
import hydra  # noqa: E402, F401
import numpy  # noqa: E402, F401
import omegaconf  # noqa: E402, F401
import pytest  # noqa: E402
from mutants import Mutant, mutants  # noqa: E402  (scripts/mutants.py, next to this file)

sys.dont_write_bytecode = True  # a mutant must never leave a .pyc that a later run could load

ROOT = Path(__file__).resolve().parents[1]
LAYERS = "tests/layers"
DENSE, CONV, POOL = f"{LAYERS}/test_dense.py", f"{LAYERS}/test_conv.py", f"{LAYERS}/test_pool.py"
RULE_TESTS = [
    "tests/diagnosis/test_rules.py",
    "tests/diagnosis/test_causes_mechanisms.py",
    "tests/diagnosis/test_causes_hyperparameters.py",
]
TARGETS = {
    "src/trainer.py": ["tests/test_trainer.py"],
    "src/loss.py": ["tests/test_loss.py"],
    "src/optimizer.py": ["tests/test_optimizer.py"],
    "src/outcome.py": ["tests/test_outcome.py"],
    "src/activation.py": ["tests/test_activation.py"],
    "src/layers/base.py": [CONV, DENSE, "tests/model"],
    "src/layers/dense.py": [DENSE],
    "src/layers/conv.py": [CONV],
    "src/layers/im2col.py": [CONV, POOL],
    "src/layers/pool.py": [POOL],
    "src/layers/flatten.py": [DENSE, CONV],
    **{
        f"src/diagnosis/rules/{name}.py": RULE_TESTS
        for name in ("config", "mechanism", "hyperparameters", "common", "__init__")
    },
}
# (module, the mutated line as the report prints it; a dropped statement is "pass  # <it>")
# -> why the mutant cannot change behaviour.
REST = "numpy reads any negative size as 'the rest'"
WIDTH = "only the width of the winner offsets changes; each width holds size**2 - 1 for size <= 16"
WINNER = "winner = np.zeros(y.shape, dtype=np.min_scalar_type("
GATHER = "chooses one gather per epoch or one per batch: the same batches either way"
ONES = "replaced by the first batch unless it has one row, and then ones((1, 1)) is the right one"
MATMUL = "batch 1 then takes the matmul path: the same grads (inner size 1), only slower"
NEW_ONES = "the ones are made again for the same batch size: the same ones, only slower"
EQUIVALENT = {
    ("src/trainer.py", "EVAL_CHUNK = 1025"): "the evaluation chunk only bounds memory",
    **{("src/trainer.py", f"GATHER_BYTES = {size}"): GATHER
       for size in ("65 * 2 ** 20", "64 * 3 ** 20", "64 * 2 ** 21", "64 * (2 * 20)",
                    "64 / 2 ** 20")},
    **{("src/trainer.py", f"self.xs = x[self.orders] if {test} else None"): GATHER for test in (
        "self.orders.size * x[1].nbytes <= GATHER_BYTES",
        "self.orders.size / x[0].nbytes <= GATHER_BYTES",
        "self.orders.size * x[0].nbytes < GATHER_BYTES",
        "not self.orders.size * x[0].nbytes <= GATHER_BYTES")},
    ("src/trainer.py", "steps: int = 1"):
        "fit sets steps after every epoch and when a run leaves: the default is never read",
    ("src/trainer.py", "return np.zeros(1)"): "with no run left, fit stops before reading it",
    ("src/trainer.py",
     "self.matrices = [p.reshape(len(p), -2, copy=False) for p in params]"): REST,
    ("src/loss.py", "if n == 0:"): "batch size 1 then takes the general path: sums and a mean "
        "over one value, the same values",
    **{("src/loss.py", test): "the mean over a batch of 1 multiplies by 1.0: the same gradient"
       for test in ("if n > 0:", "if n >= 1:")},
    ("src/loss.py", "self.rows = np.arange(1)"):
        "forward replaces it unless the batch has 1 row, and then arange(1) is the right one",
    ("src/loss.py", "picked = z.reshape(k * n, -2)[rows, y.reshape(-1)].reshape(k, n)"): REST,
    ("src/loss.py", "picked = z.reshape(k * n, -1)[rows, y.reshape(-2)].reshape(k, n)"): REST,
    ("src/loss.py", "grad.reshape(k * n, -2)[self.rows(self.y), self.y.reshape(-1)] -= 1.0"): REST,
    ("src/loss.py", "grad.reshape(k * n, -1)[self.rows(self.y), self.y.reshape(-2)] -= 1.0"): REST,
    ("src/loss.py", "target.reshape(y.size, -2)[self.rows(y), y.reshape(-1)] = 1.0"): REST,
    ("src/loss.py", "target.reshape(y.size, -1)[self.rows(y), y.reshape(-2)] = 1.0"): REST,
    ("src/loss.py", "squares = (self.diff * self.diff).reshape(len(out), -2)"): REST,
    ("src/optimizer.py", "runs = len(params[0][1])"):
        "a parameter and its gradient have the same shape",
    ("src/diagnosis/rules/config.py", "nodes = {k: n for k, n in e.facts.inits.items() if "
        "float(n.get('low', -2)) >= 0}"):
        "an init without `low` is not all-positive: -1 or -2 alike",
    ("src/diagnosis/rules/hyperparameters.py", "steps = e.metrics.get('steps', 1)"):
        "every run's metrics hold `steps`; the default is never read",
    ("src/layers/base.py", "pass  # self.backward(dy)"): "only parameter-free layers inherit "
        "param_backward, and for them it has nothing to fill: Dense and Conv2D override it",
    ("src/layers/conv.py", "pass  # super().__init__()"):
        "Conv2D sets the params and grads that Layer.__init__ would",
    ("src/layers/dense.py", "self.ones = np.ones((0, 0), dtype=dtype)"): ONES,
    ("src/layers/dense.py", "self.ones = np.ones((2, 0), dtype=dtype)"): ONES,
    ("src/layers/dense.py", "self.ones = np.ones((1, 1), dtype=dtype)"): ONES,
    ("src/layers/dense.py", "if dy.shape[1] == 0:"): MATMUL,
    ("src/layers/dense.py", "if dy.shape[2] == 1:"): MATMUL,
    ("src/layers/dense.py", "pass  # super().__init__()"):
        "Dense sets the params and grads that Layer.__init__ would",
    ("src/layers/dense.py", "if self.ones.shape[0] != dy.shape[1]:"): NEW_ONES,
    ("src/layers/dense.py", "if self.ones.shape[1] != dy.shape[0]:"): NEW_ONES,
    ("src/layers/flatten.py", "return x.reshape(*x.shape[:2], -2)"): REST,
    ("src/layers/conv.py", "return (cols @ self.wb).reshape(len(self.wb), n, oh, ow, -2)"): REST,
    ("src/layers/conv.py", "np.matmul(dy.reshape(runs, -2, f), w.transpose(0, 2, 1), out=dcols)"):
        REST,
    ("src/layers/conv.py", "dy3 = dy.reshape(len(dy), -2, dy.shape[-1])"): REST,
    ("src/layers/pool.py", "y = self._forward(x.reshape(-2, *x.shape[2:]))"): REST,
    ("src/layers/pool.py", "dx = self._backward(dy.reshape(-2, *dy.shape[2:]))"): REST,
    ("src/layers/pool.py", "for k in range(0, self.size ** 2):"):
        "offset 0 compared with itself is never strictly better: nothing changes",
    **{("src/layers/pool.py", WINNER + change): WIDTH for change in (
        "self.size ** 3 - 1))", "self.size * 2 - 1))", "self.size ** 2 - 0))",
        "self.size ** 2 - 2))", "self.size ** 2 + 1))")},
}  # fmt: skip
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-m", "not slow",
               # hydra's pytest plugin was imported before pytest could rewrite its asserts
               "-W", "ignore::pytest.PytestAssertRewriteWarning"]  # fmt: skip


def equivalent_reason(mutant: Mutant) -> str | None:
    lines = mutant.diff.splitlines()
    removed = next((line[1:].strip() for line in lines if line.startswith("-")), "")
    added = next((line[1:].strip() for line in lines if line.startswith("+")), "")
    key = f"pass  # {removed}" if added == "pass" else added  # which statement was dropped
    return EQUIVALENT.get((mutant.module, key))


def sandboxes(count: int, parent: Path) -> list[Path]:
    """`count` copies of the repository: each running mutant owns one, the tree stays clean."""
    ignore = shutil.ignore_patterns(".git", "outputs", "multirun", "__pycache__", ".*_cache")
    return [Path(shutil.copytree(ROOT, parent / f"copy{i}", ignore=ignore)) for i in range(count)]


def start_tests(copy: Path, tests: list[str]) -> int:
    """Fork a child that runs pytest on `copy`; its exit status is pytest's.

    The parent imported the heavy third-party modules once; the child imports `src` and `tests`
    fresh from the copy, so each mutant costs a test run, not an interpreter start.
    """
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.setpgid(0, 0)  # its own process group: a timeout kills whatever it started
        os.chdir(copy)
        sys.path.insert(0, str(copy))
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        code = int(pytest.main([*PYTEST_ARGS, *tests]))
    finally:
        os._exit(code)


def run_all(todo: list[Mutant], copies: list[Path], tests: list[str], timeout: float) -> list[str]:
    """'survived', 'killed' or 'timeout' per mutant, at most one running per copy."""
    results, waiting = [""] * len(todo), list(enumerate(todo))[::-1]
    running: dict[int, tuple[int, Path, float]] = {}  # pid -> (index, copy, start time)
    free = list(copies)
    while waiting or running:
        while waiting and free:
            index, mutant = waiting.pop()
            copy = free.pop()
            (copy / mutant.module).write_text(mutant.source)
            running[start_tests(copy, tests)] = (index, copy, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            _stop_overdue(running, results, timeout)
            time.sleep(0.02)
            continue
        index, copy, _ = running.pop(pid)
        module = todo[index].module
        shutil.copyfile(ROOT / module, copy / module)  # restore before the copy is reused
        free.append(copy)
        if not results[index]:
            results[index] = "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
    return results


def _stop_overdue(running: dict[int, tuple[int, Path, float]], results: list[str],
                  timeout: float) -> None:  # fmt: skip
    for pid, (index, _, started) in running.items():
        if not results[index] and time.monotonic() - started > timeout:
            results[index] = "timeout"
            os.killpg(pid, signal.SIGKILL)


def baseline_seconds(module: str, copies: list[Path], tests: list[str]) -> float:
    """Time of the unmutated selection, which must pass: else every mutant would 'die'."""
    unchanged = Mutant(module, 0, "none", (ROOT / module).read_text(), "")
    start = time.perf_counter()
    if run_all([unchanged], copies[:1], tests, timeout=600) != ["survived"]:
        sys.exit(f"error: the unmutated tests fail or do not exist: {' '.join(tests)}")
    return time.perf_counter() - start


def mutate_module(module: str, tests: list[str], copies: list[Path]) -> float:
    """Run every mutant of `module`, print its score and survivors; returns the kill share."""
    timeout = max(60.0, 10 * baseline_seconds(module, copies, tests))  # generous: a busy machine
    todo, excluded = [], []
    for mutant in mutants(ROOT, module):
        reason = equivalent_reason(mutant)
        (excluded if reason else todo).append((mutant, reason))
    results = run_all([m for m, _ in todo], copies, tests, timeout)
    survivors = [m for (m, _), r in zip(todo, results) if r == "survived"]
    killed = len(todo) - len(survivors)
    share = killed / len(todo) if todo else 1.0
    print(f"{module}: {killed}/{len(todo)} killed ({share:.0%}), "
          f"{results.count('timeout')} of them by timeout ({timeout:.0f} s); "
          f"{len(excluded)} equivalent excluded; tests: {' '.join(tests)}", flush=True)  # fmt: skip
    for mutant, reason in excluded:
        print(f"  excluded {mutant.module}:{mutant.line} {mutant.description}: {reason}")
    for mutant in survivors:
        print(f"  SURVIVED {mutant.module}:{mutant.line} {mutant.description}\n{mutant.diff}")
    return share


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(TARGETS), help="paths under src/")
    parser.add_argument("--tests", nargs="+", help="test selection (default: TARGETS' own)")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2)
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    args = parser.parse_args(argv)
    if args.list:
        for module in args.modules:
            for m in mutants(ROOT, module):
                print(f"{m.module}:{m.line} {m.description}\n{m.diff}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        copies = sandboxes(args.jobs, Path(tmp))
        for module in args.modules:
            mutate_module(module, args.tests or TARGETS[module], copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
