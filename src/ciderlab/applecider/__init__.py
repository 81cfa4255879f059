"""AppleCiDEr (paper 2): real ZTF alerts (``alerts/``), the photometry transformer, AstroMiNN and
their fusion, GalSpecNet (paper I's spectra CNN), their cross-validated training, baselines and
the book's alert figures and tables. Shared code (data pulls, labels, splits, the training
engine, metrics) lives outside this folder."""
