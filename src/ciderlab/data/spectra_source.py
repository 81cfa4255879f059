"""Which spectra the pipeline learns from: params.yaml ``spectra.source`` names the template
bank's wheel (the default) or a folder holding a catalogue of labelled spectra
(``spectranet.catalogue_source``)."""

from __future__ import annotations

from pathlib import Path

from ciderlab.errors import InputError


def is_catalogue(source: str | Path) -> bool:
    """Whether ``spectra.source`` names a catalogue folder (else the template bank's wheel)."""
    return Path(source).is_dir()


def catalogue_csv(source: str | Path, params: dict) -> Path:
    """The catalogue CSV inside a source folder; a clear error where it is not there."""
    path = Path(source) / params["spectra"]["csv"]
    if not path.is_file():
        raise InputError(f"{source} is a directory with no {params['spectra']['csv']} in it: pass "
                         "a readable file (the template bank's wheel) or a folder holding a "
                         "catalogue CSV (params.yaml spectra.csv; README \"For your own data\")")
    return path


def scored_realisations(params: dict, source: str | Path | None = None) -> int:
    """How many realisations of each spectrum are scored: ``realise.n_realisations`` for the
    template bank, 1 (the spectrum as observed) for a catalogue."""
    source = params.get("spectra", {}).get("source", "") if source is None else source
    return 1 if source and is_catalogue(source) else int(params["realise"]["n_realisations"])
