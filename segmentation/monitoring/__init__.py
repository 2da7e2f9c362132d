"""Drift statistics, the drift decision, alerts."""
