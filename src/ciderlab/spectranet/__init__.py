"""SpectraNet (paper 1): the template-bank data, realised SEDM-like spectra, the network, its
training recipe's choices, its evaluation, reliability, the SNID-SAGE comparison, and the
``classify`` / ``export`` deliverables. Shared code (spectra readers and preprocessing, the
training engine, metrics, the book's figures) lives outside this folder."""
