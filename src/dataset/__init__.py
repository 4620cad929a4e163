"""Data sets (config group `dataset`): loaders returning a ready `Dataset`."""
