"""Differentiable building blocks: each forward(x) caches what its backward(dy) needs."""
