"""Evidence: everything the rules read about one run, and the quantities derived from it.

`Facts` are the run's config choices as plain values. Behaviour is read from the classes the
config builds (`src.activation`, `src.loss`, `src.optimizer` attributes), never from their names,
so renaming a class cannot switch a rule off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.diagnosis.signals import Snapshot
from src.stackable import once_per_value


@dataclass(frozen=True)
class Facts:
    """The run's choices, as plain values; `inits` maps a config key to its init node."""

    lr: float
    batch_size: int  # after clamping to the training set
    n_train: int
    n_classes: int
    epochs: int
    normalize: str  # 'none', 'unit', 'standard'
    step_scale: float  # the optimizer's: gradients per steady-state step (1/(1-mu) momentum)
    normalizes_gradient: bool  # the optimizer divides by the gradient's scale (Adam)
    activation: str  # the hidden activation's class name, for messages only
    rectifier: bool  # the hidden activation's attributes (see src.activation.Activation)
    keeps_scale: bool
    saturates: bool  # it has a saturation knee
    takes_logits: bool  # the loss's; False: an output activation sits before the loss
    baseline_loss: float  # the loss of the best constant output
    targets: str  # loss.targets ('onehot' | 'pm1') without logits; 'class' with them
    output_activation: str  # model.output_activation without logits, else ''
    inits: dict[str, dict[str, Any]]  # 'init' / 'model.dense_init' -> node (no _partial_)
    loss_node: dict[str, Any]  # the `loss` group's node, for a suggested switch
    gain: float = 1.0  # the hidden activation's largest slope near 0 (sigmoid 0.25, ReLU 1)

    @property
    def updates_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.batch_size)  # the last batch may be smaller

    @property
    def updates(self) -> int:
        """The updates the run was given (a diverged run stops before taking them all)."""
        return self.epochs * self.updates_per_epoch


def read_facts(cfg: DictConfig, batch_size: int, n_train: int, n_classes: int) -> Facts:
    """Facts of a composed run config (as `train` receives it), reading each behaviour from a
    throwaway instance of the configured class (one stand-in weight, nothing trained)."""
    c = OmegaConf.to_container(cfg, resolve=True)
    model, loss_node = c["model"], c["loss"]
    act, loss = instantiate(cfg.activation)(), instantiate(cfg.loss)
    one_weight = np.zeros((1, 1))  # a one-run, one-weight model: only class facts are read
    optimizer = instantiate(cfg.optimizer)(params=[(one_weight, one_weight.copy())])
    inits = {"init": _plain_node(c["init"])}
    for key in ("conv_init", "dense_init"):
        if isinstance(model.get(key), dict):
            inits[f"model.{key}"] = _plain_node(model[key])
    logits = bool(loss.takes_logits)
    return Facts(
        lr=float(c["optimizer"].get("lr", math.nan)),
        batch_size=batch_size,
        n_train=n_train,
        n_classes=n_classes,
        epochs=int(c["trainer"]["epochs"]),
        normalize=str(c["dataset"].get("normalize", "none")),
        step_scale=np.asarray(optimizer.step_scale, dtype=float).item(),
        normalizes_gradient=bool(optimizer.normalizes_gradient),
        activation=type(act).__name__,
        rectifier=act.rectifier,
        keeps_scale=act.keeps_scale,
        saturates=act.saturation_knee is not None,
        takes_logits=logits,
        baseline_loss=float(loss.baseline_loss(n_classes)),
        targets="class" if logits else str(loss_node.get("targets", "onehot")),
        output_activation="" if logits else str(model.get("output_activation", "identity")),
        inits=inits,
        loss_node=_plain_node(loss_node),
        gain=_gain(act),
    )


def stack_facts(cfgs: list[DictConfig], batch_size: int, n_train: int, n_classes: int,
                plains: list[dict[str, Any]]) -> list[Facts]:  # fmt: skip
    """`read_facts` of each run of a stack (`plains`: the configs as plain data). Its configs
    differ only in stackable values, and of those only the learning rate, the optimizer's
    others (momentum: the step scale) and the init's reach the facts: runs equal in the last
    two share one read."""

    def shared(run: int) -> list[Any]:
        optimizer = {k: v for k, v in plains[run]["optimizer"].items() if k != "lr"}
        return [optimizer, plains[run]["init"]]

    def read(run: int) -> Facts:
        return read_facts(cfgs[run], batch_size, n_train, n_classes)

    facts = once_per_value(range(len(cfgs)), shared, read)
    return [replace(f, lr=float(c["optimizer"].get("lr", math.nan))) for f, c in zip(facts, plains)]


def _gain(act: Any) -> float:
    """The activation's larger slope at +-1e-3: what it multiplies a small signal's gradient by."""
    x = np.array([[-1e-3, 1e-3]])
    act.forward(x.copy())
    return float(np.max(act.backward(np.ones_like(x))))


def _plain_node(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k != "_partial_"}


@dataclass
class Evidence:
    """The measured run; `snapshots[0]` is the untrained net, the last one the final state."""

    facts: Facts
    inputs: dict[str, Any]  # max_abs, integer_valued, std (see signals.input_stats)
    snapshots: list[Snapshot]
    noise: float  # step at the run's batch size / step at the probe batch, at init
    fans: list[tuple[int, int]]  # (fan_in, fan_out) per weight matrix, first to last
    logit_rms: float  # RMS of the logits (pre-output-activation) on the probe batch at init
    epoch_losses: list[float]
    metrics: dict[str, Any]  # outcome, test_accuracy, chance, predicted_class_share, ...
    nonfinite_layer: str | None = None  # first layer (or the loss) that is not finite
    nonfinite_params: list[str] = field(default_factory=list)

    @property
    def init(self) -> Snapshot:
        return self.snapshots[0]

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    @property
    def outcome(self) -> str:
        return str(self.metrics.get("outcome"))

    @property
    def diverged(self) -> bool:
        return self.metrics.get("first_nonfinite_step") is not None

    @property
    def ratio(self) -> float:
        """Largest per-layer step / weight ratio at init, on the probe batch (mean gradient)."""
        value = self.init.max_update_ratio
        return 0.0 if math.isnan(value) else value

    @property
    def step(self) -> float:
        """`ratio` at the run's own batch size: what one update really does to the weights."""
        return self.ratio * (1.0 if math.isnan(self.noise) else max(self.noise, 1.0))

    @property
    def pace(self) -> float:
        """`ratio` as it lasts through training, at the hidden activation's gain (a sigmoid's
        slope is at most 1/4: its hidden layers learn that much slower than the ratio, set by
        the largest layer's step, says). A loss on outputs (no logits: MSE) has a gradient
        proportional to its residual, which starts far above the best constant output's loss
        and falls to it within the first updates: its ratio is discounted by baseline / init
        loss (digits MSE: 0.45 / 3.4). Cross-entropy's p - y is kept."""
        loss0, base = self.init.loss, self.facts.baseline_loss
        pace = self.ratio * min(self.facts.gain, 1.0)
        if self.facts.takes_logits or not loss0 > base > 0:
            return pace
        return pace * base / loss0

    @property
    def movement(self) -> float:
        """steps x pace: how far the weights can travel in the whole run, relative to their
        size; on this project's digits grids (cross-entropy and MSE) every run below ~2 fails
        to converge."""
        return self.metrics.get("steps", 0) * self.pace

    @property
    def depth(self) -> int:
        return len(self.fans)

    @property
    def growth(self) -> float:
        """Geometric mean factor of the pre-activation RMS from one hidden layer to the next
        at init, for activations that keep the scale (ReLU, tanh: ~linear near 0; a sigmoid's
        0.5 offset resets the scale every layer); nan below 2 hidden layers."""
        hidden = list(self.init.preact_rms.values())
        if not self.facts.keeps_scale or len(hidden) < 2 or min(hidden) <= 0:
            return math.nan
        return float((hidden[-1] / hidden[0]) ** (1 / (len(hidden) - 1)))

    @property
    def losses(self) -> list[float]:
        """Loss at init (probe batch) followed by the mean training loss of every epoch."""
        return [self.init.loss, *self.epoch_losses]

    def rose(self, by: float = 0.02) -> bool:
        """Whether the training loss went up by more than `by` (relative) at some epoch."""
        steps = np.diff(self.epoch_losses) / np.maximum(np.abs(self.epoch_losses[:-1]), 1e-12)
        return bool(np.any(steps > by))

    def trajectory(self) -> str:
        """'diverged', 'rising', 'oscillating', 'flat' or 'falling' (see docs/diagnosis.md)."""
        if self.diverged or not all(map(math.isfinite, self.losses)):
            return "diverged"
        first, last = self.losses[0], self.losses[-1]
        change = (last - first) / max(abs(first), 1e-12)
        steps = np.diff(self.epoch_losses) / np.maximum(np.abs(self.epoch_losses[:-1]), 1e-12)
        ups = float(np.mean(steps > 0.02)) if len(steps) >= 3 else 0.0
        if change > 0.1:
            return "rising"
        if ups >= 0.3:
            return "oscillating"
        return "flat" if abs(change) < 0.02 else "falling"

    def summary(self) -> dict[str, Any]:
        """The measurements for metrics.json (non-finite numbers become strings)."""
        series = [
            {"epoch": s.epoch, "loss": s.loss, "dead_relu": s.dead_relu,
             "saturated": s.saturated, "max_update_ratio": s.max_update_ratio,
             "first_last_grad_ratio": s.first_last_grad_ratio}
            for s in self.snapshots
        ]  # fmt: skip
        return json_safe(
            {
                "inputs": self.inputs,
                "noise_factor": self.noise,
                "step_ratio": self.step,
                "movement": self.movement,
                "growth": self.growth,
                "baseline_loss": self.facts.baseline_loss,
                "logit_rms": self.logit_rms,
                "trajectory": self.trajectory(),
                "init": self.init.as_dict(),
                "last": self.last.as_dict(),
                "epochs": series,
                "nonfinite_layer": self.nonfinite_layer,
                "nonfinite_params": self.nonfinite_params,
            }
        )


def json_safe(value: Any) -> Any:
    """JSON-safe copy: floats rounded to 4 significant digits, nan/inf as strings."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else str(value)
    return value
