"""What a stack of runs reports besides training: one probe per epoch, shared by every run's
diagnosis watch and logger, measured on all runs at once and handed out run by run."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from src.arrays import Array
from src.diagnosis import signals as sig
from src.diagnosis.watch import NoWatch
from src.logger.base import Logger
from src.model.sequential import Sequential
from src.probe import Probe, blas_controller, probe
from src.trainer import History, Hooks, Loss


class Observers:
    """Each run's watch and logger (lists indexed by run), fed from the stacked model.

    Probes run with one BLAS thread: probe-sized matmuls gain little from a second one, and on
    a busy machine each call waits for it (a 2-4x slower default run).
    """

    def __init__(self, model: Sequential, loss: Loss, probe_batch: tuple[Array, Array],
                 lr: Array, watches: list[NoWatch], loggers: list[Logger]) -> None:  # fmt: skip
        self.model, self.loss, self.batch, self.lr = model, loss, probe_batch, lr  # lr: (K,)
        self.watches, self.loggers = watches, loggers
        self.every = loggers[0].log_every  # the same logger config for every run of a stack
        self.steps: list[tuple[int, Array, list[int]]] = []  # buffered on_step calls
        self.diverged: dict[int, Sequential] = {}  # run -> its one-run model as it diverged
        self.blas = blas_controller()

    def hooks(self) -> Hooks:
        return Hooks(self.on_step, self.on_epoch, self.on_leave)

    def start(self, inputs: dict[str, Any], batch_size: int) -> None:
        """Probe the untrained stack for the watches (`batch_size`: as trained, after clamping)."""
        if not any(w.measures for w in self.watches):
            return
        x, y = self.batch
        with self.blas.limit(limits=1):
            state = probe(self.model, self.loss, x, y, self.lr)
            logit_rms = sig.logit_rms(self.model, x)
            # Adam divides by the gradient's own scale: batch noise does not enlarge its steps.
            adam = self.watches[0].facts.normalizes_gradient
            noise = np.ones(len(self.lr)) if adam else sig.noise_factor(
                self.model, self.loss, x, y, batch_size)  # fmt: skip
        fans = sig.fans(self.model)
        for k, watch in enumerate(self.watches):
            if watch.measures:
                init = {"inputs": inputs, "fans": fans, "logit_rms": float(logit_rms[k]),
                        "noise": float(noise[k])}  # fmt: skip
                watch.start(state.run(k), self.model, init)

    def on_step(self, step: int, values: Array, runs: list[int]) -> None:
        if self.every and step % self.every == 0:
            self.steps.append((step, values, runs))  # values: a fresh array every step

    def flush(self) -> None:
        """Hand the buffered step losses to the loggers: per run, one call for each stretch of
        steps in which the same runs trained."""
        for runs, block in itertools.groupby(self.steps, key=lambda entry: entry[2]):
            entries = list(block)
            losses = np.array([values for _, values, _ in entries])  # (steps, len(runs))
            steps = [step for step, _, _ in entries]
            for i, run in enumerate(runs):
                self.loggers[run].on_steps(steps, losses[:, i])
        self.steps.clear()

    def on_epoch(self, epoch: int, runs: list[int], histories: list[History]) -> None:
        """After an epoch; `runs` are the runs still training, in stack order."""
        self.flush()
        done = epoch + 1
        wanted = [self.loggers[k].measures or self.watches[k].wants(done) for k in runs]
        state = None
        if any(wanted):
            with self.blas.limit(limits=1):
                state = probe(self.model, self.loss, *self.batch, self.lr[runs])
        for i, run in enumerate(runs):
            mine = state.run(i) if wanted[i] else None
            logger = self.loggers[run]
            logger.on_epoch(epoch, histories[run], mine if logger.measures else None)
            if self.watches[run].wants(done):
                self.watches[run].on_epoch(done, mine, self.model)

    def on_leave(self, run: int, model: Sequential) -> None:
        self.diverged[run] = model

    def finish(self, run: int, history: History, metrics: dict[str, Any]) -> dict[str, Any]:
        """Run `run`'s diagnosis for metrics.json."""
        model = self.diverged.get(run)
        if model is None:
            return self.watches[run].finish(history, metrics)
        with self.blas.limit(limits=1):
            return self.watches[run].finish(history, metrics, model=model, loss=self.loss,
                                            probe_batch=self.batch)  # fmt: skip

    def final_state(self, run: int) -> Probe | None:
        """The probe of the state run `run` diverged in, for its logger (None if not needed)."""
        model = self.diverged.get(run)
        if model is None or not self.loggers[run].measures:
            return None
        with self.blas.limit(limits=1):
            return probe(model, self.loss, *self.batch, self.lr[[run]]).run(0)
