"""Deterministic trace-driven simulation of a playback session (Sabre's trace and movie formats)."""
