"""SNID-SAGE on real spectrum files: read by our readers, rescaled, matched with and without z.

SNID-SAGE 0.9.0 fails on fluxes of cgs size (~1e-16 erg/s/cm^2/A), so each spectrum is divided
by its median absolute flux (the scale of a spectrum carries no class information; SNID-SAGE
divides out its own continuum fit anyway). Each file is matched twice: searching the redshift
range (``predicted``: SNID-SAGE's own redshift) and forced to the catalogue redshift
(``catalogue``), the two conditions SpectraNet is scored under. An object that is also in
SNID-SAGE's bank (AT2019azh is) has its own templates excluded, as in the realised comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ciderlab.spectranet.snid.snid_input import write_spectrum_file
from ciderlab.spectranet.snid.snid_output import snid_type_to_class
from ciderlab.spectranet.snid.install import installed_template_names, templates_of_objects
from ciderlab.spectranet.snid.snid_sage import run_snid_sage
from ciderlab.data.labels import normalise_object_id
from ciderlab.errors import InputError
from ciderlab.spectra.readers import read_spectrum


def object_id_of(name: str) -> str:
    """Our object id of a truth table's object name (``SN2016al (PTF15fjg)`` -> ``2016al``)."""
    return normalise_object_id(re.split(r"[\s(]", str(name).strip(), maxsplit=1)[0])


def write_inputs(truth: pd.DataFrame, folder: Path, workdir: Path) -> tuple[list[Path], list[str]]:
    """Each readable file as a 2-column SNID-SAGE input, scaled to a median |flux| of one.

    Returns the written paths and, per truth row, "" or why the file could not be used.
    """
    paths, errors = [], []
    workdir.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(truth["file"]):
        path = workdir / f"{i:04d}.dat"
        try:
            spectrum = read_spectrum(folder / name)
            scale = np.median(np.abs(spectrum.flux))
            write_spectrum_file(path, spectrum.wave_aa, spectrum.flux / scale,
                                np.ones(spectrum.flux.size, bool), flattened=False)
            errors.append("")
        except (InputError, ValueError) as error:
            errors.append(str(error))
        paths.append(path)
    return paths, errors


def run_on_files(truth: pd.DataFrame, folder: Path, install_dir: Path, workdir: Path,
                 zmin: float, zmax: float, classes: tuple[str, ...],
                 workers: int = 1) -> tuple[pd.DataFrame, dict]:
    """SNID-SAGE's answer per file and condition, mapped to our classes.

    Returns (table, timing): one row per file and condition (``catalogue``, ``predicted``) with
    ``predicted`` (our class of its type, or ``other``), its type, subtype, redshift, rlap,
    seconds and status; timing has each condition's start-up and wall seconds.
    """
    paths, errors = write_inputs(truth, folder, workdir / "inputs")
    usable = [i for i, e in enumerate(errors) if not e]
    exclude = templates_of_objects([object_id_of(truth["object"].iloc[i]) for i in usable],
                                   sorted(installed_template_names(install_dir)))
    pieces, timing = [], {}
    for condition in ("catalogue", "predicted"):
        forced = ([float(truth["redshift"].iloc[i]) for i in usable]
                  if condition == "catalogue" else None)
        results, startup = run_snid_sage([paths[i] for i in usable], exclude, zmin, zmax,
                                         install_dir, workdir / condition, warm_up=False,
                                         workers=workers, forced_redshifts=forced)
        timing[condition] = startup
        answered = truth.iloc[usable][["file", "object", "class", "redshift"]].reset_index(
            drop=True)
        answered = pd.concat([answered, results.drop(columns="path").rename(
            columns={"redshift": "redshift_pred", "type": "snid_type"})], axis=1)
        answered["predicted"] = [snid_type_to_class(str(t), str(s) if s == s else "", classes)
                                 if status == "ok" else "no answer" for t, s, status in
                                 zip(answered["snid_type"], answered["subtype"],
                                     answered["status"])]
        failed = truth.iloc[[i for i, e in enumerate(errors) if e]][
            ["file", "object", "class", "redshift"]].assign(status="unreadable", error=[
                e for e in errors if e], predicted="no answer")
        pieces.append(pd.concat([answered, failed], ignore_index=True).assign(
            condition=condition))
    return pd.concat(pieces, ignore_index=True), timing
