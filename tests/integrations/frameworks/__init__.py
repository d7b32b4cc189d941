"""MLflow, DeepEval and lm-eval integration tests (.ci/run runs them in a venv of their own)."""
