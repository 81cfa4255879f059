"""Spectra: grids and resampling, the one preprocessing path, and realising templates as SEDM spectra."""
