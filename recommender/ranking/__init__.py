"""Ranking assets for one deal: scoring, the serving policy, rules, reasons, ``rank_for_deal``."""
