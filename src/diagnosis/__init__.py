"""Diagnosis: name why a run failed, with evidence and a config override to try.

The pipeline, one stage per module: measure (`signals`) -> evidence (`evidence`) -> rules
(`rules/`, one module per confidence tier) -> suggest (`suggest`) -> report (`report`);
`watch` drives it during training. Map and thresholds: docs/diagnosis.md.
"""
