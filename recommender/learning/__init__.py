"""Learning from outcomes: episodes, the effect model, policy evaluation, analytics, simulator."""
