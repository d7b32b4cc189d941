"""Pairwise battles: two responses to one prompt, a verdict of first better, tie or second better."""
