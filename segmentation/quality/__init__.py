"""Data quality gates: Great Expectations validation of each day's events."""
