"""Machinery of judgecal.pairwise: pooled verdict models and calibrator files."""
