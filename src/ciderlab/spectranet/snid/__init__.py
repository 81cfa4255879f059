"""Baselines SpectraNet is compared with: SNID-SAGE template matching."""
