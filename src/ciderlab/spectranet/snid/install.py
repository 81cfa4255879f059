"""SNID-SAGE 0.9.0 installed from the pinned wheel (data.dvc), without its GUI dependencies,
into a private folder; its template names, and which templates belong to which object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from ciderlab.data.labels import normalise_object_id
from ciderlab.data.pull import SNID_SAGE_WHEEL, verify_archive

_DIST_INFO = "snid_sage-0.9.0.dist-info"
_BANK_INDEX = Path("snid_sage/templates/template_index.json")


# --- installing ---------------------------------------------------------------------------------

def _is_installed(target: Path) -> bool:
    return (target / _DIST_INFO).is_dir() and (target / _BANK_INDEX).is_file()


def install_snid_sage(wheel_path: str | os.PathLike, target_dir: str | os.PathLike) -> Path:
    """Install the pinned SNID-SAGE wheel, without dependencies, into ``target_dir``.

    Idempotent: a complete install is left alone. The wheel's sha256 is checked first, and pip
    installs into a temporary sibling that is renamed into place, so an interrupted install
    never looks complete. Run it with ``PYTHONPATH=target_dir``; it needs only numpy, scipy,
    h5py, pandas, matplotlib, astropy, scikit-learn, requests and packaging.

    Returns
    -------
    Path
        ``target_dir``, ready to put on ``PYTHONPATH``.
    """
    target = Path(target_dir)
    if _is_installed(target):
        return target
    if target.exists():
        raise FileExistsError(f"{target}: exists but holds no complete SNID-SAGE 0.9.0 install; "
                              "delete it and run again")
    wheel = Path(wheel_path)
    if not wheel.exists():
        raise FileNotFoundError(f"{wheel}: not found; run `ciderlab pull` first")
    verify_archive(wheel, SNID_SAGE_WHEEL)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        staging = Path(tmp) / "site"
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                   "--disable-pip-version-check", "--no-warn-script-location",
                   "--target", str(staging), str(wheel)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not _is_installed(staging):
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"pip could not install {wheel} into {target}:\n{tail}")
        os.replace(staging, target)
    return target


def installed_template_names(install_dir: str | os.PathLike) -> set[str]:
    """Names of every template (object) in the installed bank, e.g. ``{"sn2005cf", ...}``."""
    index_path = Path(install_dir) / _BANK_INDEX
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path}: missing; run install_snid_sage() first")
    return set(json.loads(index_path.read_text())["templates"])


def templates_of_objects(object_ids: Sequence[str], template_names: Sequence[str]
                         ) -> list[list[str]]:
    """For each object id, the template names that belong to it (same normalised object id).

    ``sn2011fe`` and ``SN2011fe_bsnip`` are one object, so both are excluded for it.
    """
    by_object: dict[str, list[str]] = {}
    for name in sorted(template_names):
        by_object.setdefault(normalise_object_id(name), []).append(name)
    return [by_object.get(object_id, []) for object_id in object_ids]
