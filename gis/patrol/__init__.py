"""Patrol planning: where each unit goes, in which order and for how long (pure)."""
