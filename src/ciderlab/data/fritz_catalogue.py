"""A finished Fritz pull -> a catalogue of labelled spectra: one SkyPortal JSON file per spectrum.

``ciderlab pull fritz`` leaves ``<out>/<obj_id>/{source,spectra,classifications}.json``. This
writes, beside them, ``<out>/<obj_id>/spectrum_<id>.json`` (the spectrum record as SkyPortal's
``GET /api/spectra/<id>`` returns it, which ``ciderlab classify`` reads) and ``<out>/catalogue.csv``
(``ciderlab.data.spectra_catalogue``) with file, object (obj_id), class, redshift (the source's;
empty where it has none), phase (empty: Fritz does not state one), instrument (the spectrum's
``instrument_name``), observed_at and spectrum_id. Objects without a human classification or
without spectra are skipped, each with its reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ciderlab.errors import InputError

CATALOGUE = "catalogue.csv"


@dataclass
class FritzCatalogue:
    """What ``write_fritz_catalogue`` wrote: the table, its path and the objects it skipped."""

    table: pd.DataFrame
    path: Path
    skipped: dict[str, str] = field(default_factory=dict)  # obj_id -> why

    def summary(self) -> str:
        """One line: spectra and objects written, objects skipped."""
        return (f"catalogue of {len(self.table)} spectra of {self.table['object'].nunique()} "
                f"objects -> {self.path}; {len(self.skipped)} object(s) skipped")


def choose_classification(records: list[dict]) -> dict | None:
    """The classification that labels an object in the catalogue, or None if none qualifies.

    The rule: only human classifications count (``ml`` false: a classifier's guess is not a
    label to test a classifier on), and only those with a probability above 0 (SkyPortal's 0
    says "not this class"); a missing probability counts as 1, the value SkyPortal's form
    fills in. The highest probability wins; among equals, the most recent (``created_at``),
    since classifications are revised as spectra come in.
    """
    def probability(record):
        value = record.get("probability")
        return 1.0 if value is None else float(value)

    human = [r for r in records if isinstance(r, dict) and not r.get("ml")
             and r.get("classification") and probability(r) > 0]
    if not human:
        return None
    return max(human, key=lambda r: (probability(r), str(r.get("created_at") or "")))


def _load(folder: Path, endpoint: str):
    path = folder / f"{endpoint}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def catalogue_rows(obj_id: str, source, spectra, classifications) -> tuple[list[dict], str | None]:
    """One object's catalogue rows (file still to be written: the spectrum under ``spectrum``),
    or ([], why it is skipped)."""
    if source is None:
        return [], "not pulled (unknown to Fritz or an error; see manifest.json)"
    chosen = choose_classification(classifications or [])
    if chosen is None:
        return [], "no human classification"
    records = spectra.get("spectra", []) if isinstance(spectra, dict) else (spectra or [])
    records = [s for s in records if isinstance(s, dict) and s.get("wavelengths")
               and s.get("fluxes")]
    if not records:
        return [], "no spectra"
    redshift = source.get("redshift")
    redshift = math.nan if redshift is None else float(redshift)
    rows = []
    for number, spectrum in enumerate(records):
        spectrum_id = spectrum.get("id")  # SkyPortal's integer id; it becomes a file name
        spectrum_id = spectrum_id if isinstance(spectrum_id, int) else number
        rows.append({"file": f"{obj_id}/spectrum_{spectrum_id}.json", "object": obj_id,
                     "class": chosen["classification"], "redshift": redshift, "phase": math.nan,
                     "instrument": spectrum.get("instrument_name") or "",
                     "observed_at": spectrum.get("observed_at") or "",
                     "spectrum_id": spectrum_id, "spectrum": spectrum})
    return rows, None


def write_fritz_catalogue(pull_dir: str | Path) -> FritzCatalogue:
    """Turn a finished ``ciderlab pull fritz`` folder into a catalogue (see the module docstring).

    Parameters
    ----------
    pull_dir : path
        The pull's ``--out`` folder (with its ``manifest.json``).

    Returns
    -------
    FritzCatalogue
        The catalogue table (as written), the path of ``catalogue.csv`` and the skipped objects.

    Raises
    ------
    InputError
        The folder is not a Fritz pull, or no object has both a human classification and a
        spectrum (nothing is written then).
    """
    from ciderlab.data.fritz import load_manifest
    from ciderlab.data.spectra_catalogue import write_spectra_catalogue
    from ciderlab.io import atomic_path

    pull_dir = Path(pull_dir)
    objects = load_manifest(pull_dir)
    if not objects:
        raise InputError(f"{pull_dir}: not a Fritz pull (no manifest.json listing objects); run "
                         "`ciderlab pull fritz --objects ... --out` into it first")
    rows, skipped = [], {}
    for obj_id in objects:
        folder = pull_dir / obj_id
        found, why = catalogue_rows(obj_id, _load(folder, "source"), _load(folder, "spectra"),
                                    _load(folder, "classifications"))
        if why:
            skipped[obj_id] = why
        rows += found
    if not rows:
        raise InputError(f"{pull_dir}: none of the {len(objects)} objects has both a human "
                         "classification and a spectrum, so there is no catalogue to write ("
                         + "; ".join(f"{o}: {w}" for o, w in skipped.items()) + ")")
    for row in rows:
        with atomic_path(pull_dir / row["file"]) as tmp:
            tmp.write_text(json.dumps({"status": "success", "message": "",
                                       "data": row.pop("spectrum")}) + "\n")
    table = pd.DataFrame(rows)
    path = write_spectra_catalogue(table, pull_dir / CATALOGUE)
    return FritzCatalogue(table, path, skipped)
