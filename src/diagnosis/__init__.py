"""Diagnosis: name why a run failed, with evidence and a config override to try."""
