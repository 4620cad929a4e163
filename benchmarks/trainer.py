"""Samples/s of the project's trainer vs a minimal NumPy loop vs PyTorch CPU, same run.

    python -m benchmarks.trainer                      # full run (~10 min on 2 cores)
    python -m benchmarks.trainer --quick --nets mlp   # a quick look
    python -m benchmarks.trainer --help

A: `src.trainer.fit`, on a model, loss and optimizer built by `src.build.build` from the composed
config (SGD lr 0.1, float32). B: `benchmarks/reference_numpy.py`, the hardware reference.
C: PyTorch, skipped with a message when torch is not importable. All three start from the same
weights, see the same samples in the same order (so their mean losses must agree), and are timed
interleaved (A B C, B C A, C A B, ...) within each cell; ratios are medians of per-repeat ratios.
Data loading, model building and per-epoch test evaluation are outside the timings (fit gets a
16-sample test split). Threads: threadpoolctl for NumPy's BLAS, torch.set_num_threads for torch.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from hydra.utils import instantiate
from threadpoolctl import threadpool_limits

from benchmarks import reference_numpy, report
from benchmarks.nets import NETS, Net, flops_per_sample
from src.build import build
from src.trainer import fit

try:
    import torch
except ImportError:  # optional peer
    torch = None
if torch is not None:
    from benchmarks import reference_torch

INIT_SEED, SHUFFLE_SEED = 0, 1
RESULTS = Path(__file__).resolve().parent / "results" / "trainer.md"
# cpu: this process's CPU time, which other processes on a busy machine do not inflate; it sums
# over threads, so with more than one it measures work per CPU-second, not speed.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if torch is None:
        print("torch is not importable: column C (PyTorch) is skipped; pip install torch==2.13.0")
    machine = report.machine(torch)
    rows: list[dict] = []
    for threads in args.threads:
        with threadpool_limits(threads):
            if torch is not None:
                torch.set_num_threads(threads)
            peak = sgemm_peak(CLOCKS[args.clock])
            for name in args.nets:
                rows += bench_net(NETS[name], threads, args)
            # The best of both ends: another process may have shared the core at one of them.
            machine[f"peak{threads}"] = max(peak, sgemm_peak(CLOCKS[args.clock]))
    machine["load_after"] = report.load()
    text = report.markdown(rows, machine, args)
    report.publish(text, args.out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ints = lambda s: [int(v) for v in s.split(",")]  # noqa: E731
    parser.add_argument(
        "--nets",
        type=lambda s: s.split(","),
        default=list(NETS),
        help=f"comma-separated subset of {','.join(NETS)}",
    )
    parser.add_argument("--batches", type=ints, default=[1, 8, 32, 128, 512])
    parser.add_argument("--threads", type=ints, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per implementation")
    parser.add_argument(
        "--quick", action="store_true", help="3 repeats and a quarter of the samples per timing"
    )
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall time, or this process's CPU time (steadier on a busy machine)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown results file")
    args = parser.parse_args(argv)  # fmt: skip
    unknown = set(args.nets) - set(NETS)
    if unknown:
        parser.error(f"--nets: unknown {sorted(unknown)}; valid: {','.join(NETS)}")
    if args.quick:
        args.repeats = min(args.repeats, 3)
    args.scale = 0.25 if args.quick else 1.0
    return args


def sgemm_peak(clock, n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of `repeats` float32 (n, n) @ (n, n) products, at the current limits."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, n, n), dtype=np.float32)
    out = np.empty_like(a)
    best = np.inf
    for _ in range(repeats + 1):  # the first warms up the threads
        start = clock()
        np.matmul(a, b, out=out)
        best = min(best, clock() - start)
    return 2 * n**3 / best / 1e9


def bench_net(net: Net, threads: int, args: argparse.Namespace) -> list[dict]:
    """One row per batch size for `net` at the current thread count."""
    cfg = net.config()
    data = net.load()
    x, y = data.x_train.astype(np.float32), data.y_train  # cast once, as src.train does
    model, *_ = build([cfg], data, np.dtype(np.float32), [np.random.default_rng(INIT_SEED)])
    flops = flops_per_sample(model, x[None, :1])
    rows = []
    for batch in args.batches:
        n, epochs = net.plan(batch, len(y), args.scale)
        impls = make_impls(net, cfg, data, batch, epochs)
        warmup = (x[: 2 * batch], y[: 2 * batch])
        times, losses = interleave(impls, (x[:n], y[:n]), warmup, args.repeats, CLOCKS[args.clock])
        row = report.summarize(times, losses, n * epochs, flops)
        row.update(net=net.name, title=net.title, threads=threads, batch=batch, samples=n * epochs)
        print(report.progress(row), flush=True)
        rows.append(row)
    return rows


def make_impls(net: Net, cfg, data, batch: int, epochs: int) -> dict:
    """name -> setup(x, y) -> train() -> mean loss; setup (fresh weights) is not timed."""
    settings = replace(instantiate(cfg.trainer), epochs=epochs, batch_size=batch)
    lr = float(cfg.optimizer.lr)
    fresh = lambda: build([cfg], data, np.dtype(np.float32), [np.random.default_rng(INIT_SEED)])  # noqa: E731

    def initial() -> list:
        """The one run's parameters without the run axis, biases as vectors."""
        named = fresh()[0].named_parameters()
        return [p[0].reshape(p.shape[-1]) if k.endswith(":b") else p[0].copy()
                for k, p in named.items()]  # fmt: skip

    def trainer(xs, ys):
        model, loss, optimizer = fresh()
        arrays, rngs = (xs, ys, xs[:16], ys[:16]), [np.random.default_rng(SHUFFLE_SEED)]
        return lambda: float(
            np.mean(fit(model, loss, optimizer, arrays, settings, rngs)[0].epoch_losses)
        )

    loop = reference_numpy.cnn_epochs if net.name == "cnn" else reference_numpy.mlp_epochs

    def numpy_loop(xs, ys):
        params, rng = initial(), np.random.default_rng(SHUFFLE_SEED)
        return lambda: loop(params, xs, ys, batch, lr, rng, epochs)

    impls = {"trainer": trainer, "numpy": numpy_loop}
    if torch is None:
        return impls

    def torch_loop(xs, ys):
        build_torch = reference_torch.cnn if net.name == "cnn" else reference_torch.mlp
        model, (xt, yt) = build_torch(initial()), reference_torch.to_tensors(xs, ys)
        rng = np.random.default_rng(SHUFFLE_SEED)
        return lambda: reference_torch.train_epochs(model, xt, yt, batch, lr, rng, epochs)

    impls["torch"] = torch_loop
    return impls


def interleave(impls: dict, data: tuple, warmup: tuple, repeats: int, clock) -> tuple[dict, dict]:
    """Seconds per repeat and the first repeat's mean loss, per implementation.

    Repeat r runs the implementations in an order rotated by r, so none always goes first.
    """
    for setup in impls.values():
        setup(*warmup)()
    names = list(impls)
    times: dict[str, list[float]] = {name: [] for name in names}
    losses: dict[str, float] = {}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            train = impls[name](*data)
            start = clock()
            value = train()
            times[name].append(clock() - start)
            losses.setdefault(name, value)
    return times, losses


if __name__ == "__main__":
    main()
