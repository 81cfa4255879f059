"""Spectra as SNID-SAGE reads them: its 2-column ASCII files, and the flattened, un-normalised
observation rebuilt for spectra stored without their raw flux."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ciderlab.spectranet.templates import TemplateSpectrum
from ciderlab.io import atomic_path
from ciderlab.spectra.continua import draw_continuum
from ciderlab.spectra.grid import check_spectrum, coverage_of
from ciderlab.spectranet.observe import Draw, draw_conditions, realise_one, rng_for
from ciderlab.spectranet.realise import RealiseConfig


def write_spectrum_file(path: str | os.PathLike, wave_aa: np.ndarray, flux: np.ndarray,
                        covered: np.ndarray | None = None, flattened: bool = True) -> None:
    """Write a spectrum as the 2-column ASCII file SNID-SAGE reads, covered bins only.

    SNID-SAGE fits its own continuum (a spline to log flux; bins with flux <= 0 drop out), so
    it wants flux with a continuum: an observed spectrum as it is (``flattened=False``), or a
    flattened one as continuum-normalised flux, ``flux + 1``. Zeros outside the coverage would
    read as data, so they are left out.

    Parameters
    ----------
    wave_aa : (n,) wavelength, Angstrom (observed frame)
    flux : (n,) flattened flux (continuum-divided minus one), or observed flux, any units, if
        ``flattened`` is False
    covered : (n,) bool, optional
        Bins holding data; default: from the first to the last non-zero bin.
    """
    wave_aa, flux = np.asarray(wave_aa, float), np.asarray(flux, float)
    covered = coverage_of(flux) if covered is None else np.asarray(covered, bool)
    if wave_aa.shape != flux.shape:
        raise ValueError(f"{path}: wavelength {wave_aa.shape} and flux {flux.shape} differ")
    check_spectrum(flux, covered, what=str(path))
    table = np.column_stack([wave_aa[covered], flux[covered] + (1.0 if flattened else 0.0)])
    with atomic_path(path) as tmp:
        np.savetxt(tmp, table, fmt="%.4f %.6f")  # no header: SNID-SAGE sniffs header words


def rebuild_flat_observation(template: TemplateSpectrum, hosts: list[TemplateSpectrum],
                             wave_template_aa: np.ndarray, row: pd.Series,
                             cfg: RealiseConfig) -> tuple[np.ndarray, np.ndarray]:
    """Re-draw one realised observation (a metadata ``row``) in its flattened, un-normalised form.

    For spectra stored without ``flux_raw_obs``: the stored model input is normalised to unit
    standard deviation, which SNID-SAGE cannot use (its continuum fit drops every bin at or
    below zero). The realisation is seeded by (template, epoch, realisation), so it is rebuilt
    exactly, with the redshift, host and S/N the row records: ``normalise_spectrum(flux_flat,
    covered)`` equals the stored ``flux_obs``.

    Parameters
    ----------
    template : the row's template spectrum (``row.template``, ``row.epoch``)
    hosts : the Galaxy templates, in the order ``realise`` used
    wave_template_aa : (1024,) the bank's rest-frame grid, Angstrom
    row : one row of the realised-spectra metadata
    cfg : the realise configuration that made the row

    Returns
    -------
    flux_flat : (cfg.n_bins,) flattened flux on ``cfg.wave_obs_aa``, zero off coverage
    covered : (cfg.n_bins,) bool
    """
    rng = rng_for(cfg.seed, template.name, template.epoch, int(row["realisation"]))
    drawn = draw_conditions(rng, cfg, len(hosts))  # moves rng to where the noise was drawn
    if not np.isclose(drawn.redshift, row["redshift"], rtol=0, atol=1e-9):
        raise ValueError(f"{template.name} epoch {template.epoch}: the seed or redshift range in "
                         "the realise parameters differ from those that made this row")
    host_names = [host.name for host in hosts]
    if row["host_template"] not in host_names:
        raise ValueError(f"host {row['host_template']!r} is not among the {len(hosts)} hosts")
    draw = Draw(redshift=float(row["redshift"]), host_fraction=float(row["host_fraction"]),
                host_index=host_names.index(row["host_template"]), snr=float(row["snr"]))
    continuum = draw_continuum(rng, row["label"], template.age_days, cfg.continuum)
    steps = realise_one(wave_template_aa, template.flux, hosts[draw.host_index].flux, draw,
                        continuum, rng, cfg)
    return steps["flat"], steps["covered_obs"]
