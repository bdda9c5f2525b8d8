"""Recommendation use cases: recommend and log a list for a deal; marketer rules."""
