"""ciderlab: reproducible companion to the SpectraNet and AppleCiDEr ZTF papers."""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so `import ciderlab` (and every CLI start) stays free of torch and specutils.
    if name == "classify_spectrum":
        from ciderlab.classify import classify_spectrum

        return classify_spectrum
    raise AttributeError(f"module 'ciderlab' has no attribute {name!r}")
