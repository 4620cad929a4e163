"""The config facts a diagnosis needs: what was chosen (lr, batch, activation, init, ...).

Read from the composed config by each group's `_target_`, so they hold for any override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

INIT_KEYS = ("init", "model.conv_init", "model.dense_init")  # where an initializer is chosen


def target_name(node: Any) -> str:
    """'src.activation.ReLU' -> 'ReLU'; '' when the node has no `_target_`."""
    if isinstance(node, dict) and "_target_" in node:
        return str(node["_target_"]).rsplit(".", 1)[-1]
    return ""


@dataclass(frozen=True)
class Facts:
    """The run's choices, as plain values; `inits` maps a config key to its init node."""

    lr: float
    batch_size: int  # after clamping to the training set
    n_train: int
    n_classes: int
    epochs: int
    optimizer: str  # 'SGD', 'Momentum', 'Adam'
    momentum: float  # 0 unless optimizer=momentum
    activation: str  # 'ReLU', 'LeakyReLU', 'Sigmoid', 'Tanh'
    loss: str  # 'CrossEntropy', 'MSE'
    targets: str  # 'onehot' | 'pm1' for MSE; 'class' for cross-entropy
    output_activation: str  # 'identity', 'sigmoid', 'tanh', 'softmax' (MSE only)
    normalize: str  # 'none', 'unit', 'standard'
    model: str  # 'mlp', 'cnn'
    hidden: tuple[int, ...]  # MLP widths, () for a CNN
    inits: dict[str, dict[str, Any]]  # 'init' / 'model.dense_init' -> node (no _partial_)
    loss_node: dict[str, Any]  # the `loss` group's node, for a suggested switch

    @property
    def step_scale(self) -> float:
        """How many gradients one SGD-equivalent step moves: 1/(1-mu) for momentum."""
        return 1.0 / (1.0 - self.momentum) if self.optimizer == "Momentum" else 1.0


def read_facts(cfg: DictConfig, batch_size: int, n_train: int, n_classes: int) -> Facts:
    """Facts of a composed run config (as `train` receives it)."""
    c = OmegaConf.to_container(cfg, resolve=True)
    model, loss, opt = c["model"], c["loss"], c["optimizer"]
    inits = {"init": _plain_node(c["init"])}
    for key in ("conv_init", "dense_init"):
        if isinstance(model.get(key), dict):
            inits[f"model.{key}"] = _plain_node(model[key])
    is_mse = target_name(loss) == "MSE"
    return Facts(
        lr=float(opt.get("lr", float("nan"))),
        batch_size=batch_size,
        n_train=n_train,
        n_classes=n_classes,
        epochs=int(c["trainer"]["epochs"]),
        optimizer=target_name(opt),
        momentum=float(opt.get("momentum", 0.0)),
        activation=target_name(c["activation"]),
        loss=target_name(loss),
        targets=str(loss.get("targets", "onehot")) if is_mse else "class",
        output_activation=str(model.get("output_activation", "identity")) if is_mse else "",
        normalize=str(c["dataset"].get("normalize", "none")),
        model=str(model["_target_"]).rsplit(".", 1)[-1],
        hidden=tuple(model.get("hidden") or ()),
        inits=inits,
        loss_node=_plain_node(loss),
    )


def _plain_node(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k != "_partial_"}
