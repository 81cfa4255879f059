"""Provenance: short content hashes that identify runs and splits, and the code's git revision."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path


def fingerprint(*parts) -> str:
    """A short hash of JSON-able parts: the identity of a split or a training run."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_revision(cwd: str | Path = ".") -> str:
    """The commit the code ran from ("unknown" outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
