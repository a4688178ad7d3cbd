"""Reads of the live generation: figures, provenance, counts and order records (no writes)."""
