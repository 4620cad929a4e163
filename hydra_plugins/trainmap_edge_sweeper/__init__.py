"""Hydra sweeper plugin `hydra/sweeper=edge`: the adaptive edge search of trainmap."""
