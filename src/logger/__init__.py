"""Loggers (config group `logger`): what a run writes for TensorBoard, or nothing.

`tensorboard` (the default) writes tensorboardX event files into the run's folder; `none` writes
nothing. Both are context managers with the same hooks, so `train` needs no `if`.
"""
