"""Flatten every axis after the batch axis."""

from __future__ import annotations

from src.arrays import Array
from src.layers.base import Layer


class Flatten(Layer):
    """x (N, ...) -> (N, prod(...)); a view, so it costs nothing."""

    def forward(self, x: Array) -> Array:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy: Array) -> Array:
        return dy.reshape(self.shape)
