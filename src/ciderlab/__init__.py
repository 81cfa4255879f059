"""ciderlab: reproducible companion to the SpectraNet and AppleCiDEr ZTF papers.

Each paper has a home: ``ciderlab.spectranet`` and ``ciderlab.applecider``; what both use (data
pulls, spectra readers and preprocessing, the training engine, metrics, the book's figures)
sits beside them. ``from ciderlab.spectranet.classify import classify_spectrum`` classifies one
spectrum from Python.
"""

__version__ = "0.1.0"
