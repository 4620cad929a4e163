"""The peer: the same networks in PyTorch (CPU), trained with an idiomatic loop.

Only imported when torch is importable; the benchmark never makes torch a dependency.
Weights are copied from the project's freshly built model, so all three start identical.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from src.arrays import Array, Rng


def mlp(params: list[Array]) -> nn.Module:
    """Dense-ReLU-Dense from [W1 (D, H), b1, W2 (H, K), b2]."""
    w1, b1, w2, b2 = params
    model = nn.Sequential(nn.Flatten(), nn.Linear(*w1.shape), nn.ReLU(), nn.Linear(*w2.shape))
    with torch.no_grad():
        for layer, w, b in ((model[1], w1, b1), (model[3], w2, b2)):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))  # torch keeps (out, in)
            layer.bias.copy_(torch.from_numpy(b))
    return model


def cnn(params: list[Array]) -> nn.Module:
    """Conv-ReLU-MaxPool(2)-Dense (NCHW) from [Wc (K, K, C, F), bc, Wd (P*P*F, K), bd]."""
    wc, bc, wd, bd = params
    k, _, c, f = wc.shape
    classes = wd.shape[1]
    pool_side = round(math.sqrt(wd.shape[0] // f))
    model = nn.Sequential(
        nn.Conv2d(c, f, k),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(wd.shape[0], classes),
    )
    # Our flatten order is (P, P, F) (NHWC); torch's is (F, P, P) (NCHW).
    wd_torch = wd.reshape(pool_side, pool_side, f, classes).transpose(3, 2, 0, 1)
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(wc.transpose(3, 2, 0, 1).copy()))
        model[0].bias.copy_(torch.from_numpy(bc))
        model[4].weight.copy_(torch.from_numpy(wd_torch.reshape(classes, -1).copy()))
        model[4].bias.copy_(torch.from_numpy(bd))
    return model


def to_tensors(x: Array, y: Array) -> tuple[torch.Tensor, torch.Tensor]:
    """NHWC images become NCHW (torch's native layout); labels int64. Done before timing."""
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def train_epochs(model: nn.Module, x, y, batch: int, lr: float, rng: Rng, epochs: int) -> float:
    """`epochs` of shuffled SGD (torch.optim.SGD, nn.CrossEntropyLoss); the mean loss."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    loss_sum, seen = 0.0, 0
    for _ in range(epochs):
        index = torch.from_numpy(rng.permutation(len(y)))  # the order the others draw
        xs, ys = x[index], y[index]  # one gather per epoch, as the others do
        for s in range(0, len(ys), batch):
            xb, yb = xs[s : s + batch], ys[s : s + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(yb)
            seen += len(yb)
    return loss_sum / seen
