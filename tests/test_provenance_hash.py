"""Run and split identities (ciderlab.provenance.fingerprint) and the code's git revision."""

import subprocess
from pathlib import Path

from ciderlab.provenance import fingerprint, git_revision

ROOT = Path(__file__).resolve().parents[1]


def test_fingerprint_is_fixed():
    # Fixed values: checkpoints and classes.json record these; a change orphans every result.
    assert fingerprint([{"object_id": "sn2011fe", "label": "SN Ia", "split": "train"}]) == \
        "ff7a72769f1b9e8b"
    assert fingerprint({"b": 1, "a": 2}, "x") == "10c19b26dd51a7bb"


def test_fingerprint_ignores_key_order_but_not_values_or_part_order():
    assert fingerprint({"b": 1, "a": 2}) == fingerprint({"a": 2, "b": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint("x", "y") != fingerprint("y", "x")


def test_git_revision_is_the_checkout_head():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    assert git_revision(ROOT) == (head or "unknown")  # "unknown" when tests run from an sdist


def test_git_revision_outside_a_checkout_is_unknown(tmp_path):
    assert git_revision(tmp_path) == "unknown"
