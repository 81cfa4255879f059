"""ciderlab: reproducible companion to the SpectraNet and AppleCiDEr ZTF papers."""

__version__ = "0.1.0"
