"""Architectures (config group `model`): factories that stack layers into a Sequential."""
