"""ciderlab: reproducible companion to the SpectraNet and AppleCiDEr ZTF papers."""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so `import ciderlab` (and every CLI start) stays free of torch and specutils. Through
    # importlib, not an import statement: provenance_imports follows import statements, and no
    # pipeline stage runs classify_spectrum, so editing it must not rerun them all.
    if name == "classify_spectrum":
        import importlib

        return importlib.import_module("ciderlab.classify").classify_spectrum
    raise AttributeError(f"module 'ciderlab' has no attribute {name!r}")
