"""Errors a user can act on: each names the input that was wrong and says what to do."""

from __future__ import annotations


class CiderlabError(Exception):
    """Base class: the CLI prints the message (no traceback) and exits non-zero."""


class InputError(CiderlabError, ValueError):
    """An input file, array or setting that cannot be used as given (bad format, NaN, units...)."""
