"""Sweeps: running their cells, and turning a sweep folder into summary.csv and a phase map."""
