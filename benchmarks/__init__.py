"""Speed benchmarks (not tests): run as modules from the repository root, see README.md here."""
