"""Learning use cases: train and serve the outcome model, analytics, off-policy evaluation."""
