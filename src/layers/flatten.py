"""Flatten every axis after the run and batch axes."""

from __future__ import annotations

from src.arrays import Array
from src.layers.base import Layer


class Flatten(Layer):
    """x (K, N, ...) -> (K, N, prod(...)); a view, so it costs nothing."""

    def forward(self, x: Array) -> Array:
        self.shape = x.shape
        return x.reshape(*x.shape[:2], -1)

    def backward(self, dy: Array) -> Array:
        return dy.reshape(*dy.shape[:2], *self.shape[2:])  # dy's K: x may be shared (1, N, ...)
