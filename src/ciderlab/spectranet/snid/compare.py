"""SpectraNet beside SNID-SAGE on the same test spectra: answers, headline scores, speed.

Neither method is told the redshift: SpectraNet runs end to end (its classifier sees each
spectrum de-redshifted with the redshift model's estimate), SNID-SAGE searches the redshift
range the spectra were drawn from. Speed is measured like for like: both on one CPU thread
(torch's intra-op threads; SNID-SAGE's worker process with its BLAS/FFT threads at one), and
neither counts its start-up (SNID-SAGE: Python, its import and the template bank's first load;
SpectraNet: loading the checkpoints and a first warm-up pass).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from ciderlab.spectranet.snid.snid_input import rebuild_flat_observation, write_spectrum_file
from ciderlab.spectranet.snid.snid_output import OTHER, snid_type_to_class
from ciderlab.spectranet.snid.install import installed_template_names, templates_of_objects
from ciderlab.spectranet.snid.snid_sage import run_snid_sage
from ciderlab.spectranet.snid.subset import select_baseline_subset
from ciderlab.spectranet.templates import TemplateBank
from ciderlab.evaluation.metrics import label_scores, redshift_metrics
from ciderlab.io import SpectraSet
from ciderlab.spectra.preprocess import PreprocessConfig, remove_continuum, rest_frame_inputs
from ciderlab.spectranet.realise import RealiseConfig
from ciderlab.prediction import probabilities, redshifts

N_THREADS = 1  # each method's CPU threads in the speed comparison (our choice: one each)
SNID_TIMED = ("the sum over spectra of each `sage identify` call's own wall time, in one warm "
              "worker process on 1 thread (OMP/OpenBLAS/MKL threads = 1); not counted: Python "
              "start-up, the SNID-SAGE import and a warm-up call that loads the template bank "
              "(snid_sage_startup). SNID-SAGE 0.9.0 runs with its per-frequency Python loops "
              "as numpy array operations, the same bits (snid/fast_loops.py)")
SPECTRANET_TIMED = ("redshift model, de-redshifting and classifier over all spectra in one "
                    "batch, torch on 1 thread, on CPU; not counted: loading the checkpoints and "
                    "one warm-up pass on the first spectrum")


class Comparison(NamedTuple):
    """What ``compare_with_snid_sage`` returns."""

    table: pd.DataFrame  # one row per spectrum: truth, both methods' answers
    timing: dict  # seconds and spectra per second of each method, and what was timed
    metrics: dict  # headline scores of both methods on the same spectra (DVC metrics)
    arrays: dict  # wave_obs_aa (L,), flux_flat (N, L), flux_snid (N, L), covered (N, L)


@contextmanager
def torch_threads(n_threads: int):
    """Run torch on ``n_threads`` intra-op threads inside the block; restore the setting after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def snid_inputs(spectra: SpectraSet, cfg: RealiseConfig, bank: TemplateBank | None = None
                ) -> tuple[np.ndarray, np.ndarray, str]:
    """What SNID-SAGE is handed for each spectrum, and the flattened form for the figures.

    The like-for-like input is the observation with its continuum and noise
    (``spectra.flux_raw_obs``): SNID-SAGE removes the continuum itself. Spectra stored without
    it (an older realise) are rebuilt from their seeds (``rebuild_flat_observation``, needs the
    template ``bank``) and handed over as continuum-normalised flux, flattened + 1.

    Returns
    -------
    flux_snid : (N, L) what is written for SNID-SAGE, zero off coverage
    flux_flat : (N, L) continuum-removed flux (continuum-divided minus one), zero off coverage
    kind : "flux_raw_obs" or "rebuilt_flattened_plus_one"
    """
    raw = getattr(spectra, "flux_raw_obs", None)
    covered = spectra.covered_obs
    if raw is not None:
        raw = np.asarray(raw, np.float64)
        flat = np.stack([remove_continuum(cfg.wave_obs_aa, f, c, cfg.preprocess)
                         for f, c in zip(raw, covered)])
        return np.where(covered, raw, 0.0), flat, "flux_raw_obs"
    if bank is None:
        raise ValueError("the spectra hold no flux_raw_obs (realised by an older ciderlab): "
                         "pass the template bank to rebuild them, or re-run `ciderlab realise`")
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    by_key = {(s.name, s.epoch): s for s in bank.spectra}
    flat = np.zeros(covered.shape)
    for i, (_, row) in enumerate(spectra.meta.iterrows()):
        template = by_key[(row["template"], int(row["epoch"]))]
        flat[i], rebuilt_covered = rebuild_flat_observation(template, hosts, bank.wave_rest_aa,
                                                            row, cfg)
        if not np.array_equal(rebuilt_covered, covered[i]):
            raise ValueError(f"spectrum {i} ({row['template']}): the rebuilt coverage differs "
                             "from the stored one; the realise parameters changed")
    return np.where(covered, flat + 1.0, 0.0), flat, "rebuilt_flattened_plus_one"


def run_spectranet(classifier: torch.nn.Module, redshift_model: torch.nn.Module,
                   flux_obs: np.ndarray, covered_obs: np.ndarray, preprocess: PreprocessConfig,
                   n_threads: int = N_THREADS) -> tuple[np.ndarray, np.ndarray, float]:
    """SpectraNet end to end on (N, L) observed-frame model inputs, timed.

    Returns class probabilities (N, K), redshifts (N,) and the seconds the N spectra took on
    ``n_threads`` threads after one untimed warm-up pass.
    """
    def run(flux, covered):
        z_pred = redshifts(redshift_model, flux)
        rest = rest_frame_inputs(flux, covered, z_pred, preprocess)  # (N, L_rest)
        return probabilities(classifier, rest), z_pred

    with torch_threads(n_threads):
        run(flux_obs[:1], covered_obs[:1])
        started = time.perf_counter()
        proba, z_pred = run(flux_obs, covered_obs)
        seconds = time.perf_counter() - started
    return proba, z_pred, seconds


def score_comparison(table: pd.DataFrame, timing: dict) -> dict:
    """Headline scores of both methods on the same spectra: class accuracy, SN Ia vs non-Ia,
    redshift RMS of dz/(1+z) and outlier fraction (over the spectra each gave a redshift for),
    and the like-for-like speed."""
    scores = {"n_spectra": int(len(table)), "threads_each": timing["threads_each"]}
    for method, prefix in (("spectranet", "spectranet"), ("snid_sage", "snid")):
        labels = label_scores(table["label"], table[f"{prefix}_class"])
        z = pd.to_numeric(table[f"{prefix}_redshift"], errors="coerce")
        found = z.notna().to_numpy()
        redshift = (redshift_metrics(z[found], table["redshift"][found]) if found.any()
                    else {"rms": float("nan"), "outlier_fraction": float("nan")})
        scores[method] = {"accuracy": labels["accuracy"],
                          "ia_vs_non_ia_accuracy": labels["ia_vs_non_ia"]["accuracy"],
                          "ia_purity": labels["ia_vs_non_ia"]["purity"],
                          "ia_completeness": labels["ia_vs_non_ia"]["completeness"],
                          "redshift_rms": redshift["rms"],
                          "redshift_outlier_fraction": redshift["outlier_fraction"],
                          "n_with_redshift": int(found.sum()),
                          "spectra_per_second": timing[f"{method}_spectra_per_second"]}
    scores["snid_sage"]["n_answered"] = int((table["snid_status"] == "ok").sum())
    scores["speed_ratio"] = (timing["spectranet_spectra_per_second"]
                             / timing["snid_sage_spectra_per_second"])
    return scores


def snid_on_test_subset(spectra: SpectraSet, classes: list[str], cfg: RealiseConfig,
                        install_dir: str | os.PathLike, workdir: str | os.PathLike,
                        n_spectra: int, seed: int, bank: TemplateBank | None = None,
                        workers: int = 1) -> tuple[pd.DataFrame, dict, dict]:
    """SNID-SAGE on a class-balanced subset of the test spectra: the slow half of the
    comparison, independent of SpectraNet's training.

    The subset is ``select_baseline_subset(spectra.meta, n_spectra, seed)``; each spectrum is
    matched with its own object's templates excluded. ``classes`` (the split's) name SNID-SAGE's
    answers; ``bank`` is needed only for spectra stored without ``flux_raw_obs``; ``workers``
    SNID-SAGE processes run side by side, one thread each. Returns the answers (``row`` =
    index in ``spectra``, the subset's metadata, snid_* columns), their timing, and the
    arrays SNID-SAGE was given (wave_obs_aa, flux_flat, flux_snid, covered).
    """
    subset = select_baseline_subset(spectra.meta, n_spectra, seed)
    chosen = spectra.select(subset.index.to_numpy())
    flux_snid, flux_flat, kind = snid_inputs(chosen, cfg, bank)
    workdir = Path(workdir)
    (workdir / "spectra").mkdir(parents=True, exist_ok=True)
    paths = [workdir / "spectra" / f"spectrum_{i:04d}.dat" for i in range(len(chosen.meta))]
    for path, flux, covered in zip(paths, flux_snid, chosen.covered_obs):
        write_spectrum_file(path, cfg.wave_obs_aa, flux, covered, flattened=False)
    exclude = templates_of_objects(chosen.meta["object_id"].tolist(),
                                   sorted(installed_template_names(install_dir)))
    result, startup = run_snid_sage(paths, exclude, cfg.redshift_min, cfg.redshift_max,
                                    install_dir, workdir, warm_up=True, workers=workers)
    table = subset.reset_index(names="row").assign(
        snid_class=[snid_type_to_class(t or "", s or "", tuple(classes))
                    for t, s in zip(result["type"], result["subtype"])],
        snid_type=result["type"], snid_subtype=result["subtype"],
        snid_redshift=result["redshift"], snid_rlap=result["rlap"],
        snid_best_template=result["best_template"], snid_status=result["status"],
        snid_seconds=result["seconds"], snid_error=result["error"])
    timed = result["seconds"].notna().to_numpy()
    snid_seconds = float(result["seconds"][timed].sum())
    timing = {"n_spectra": len(table), "threads_each": N_THREADS, "snid_sage_workers": workers,
              "snid_sage_timed": SNID_TIMED, "snid_sage_input": kind,
              "snid_sage_seconds": snid_seconds, "snid_sage_n_timed": int(timed.sum()),
              "snid_sage_spectra_per_second": (timed.sum() / snid_seconds if snid_seconds > 0
                                               else float("nan")),
              "snid_sage_startup": startup,
              "snid_sage_ok": int((table["snid_status"] == "ok").sum()), "other_class": OTHER}
    arrays = {"wave_obs_aa": cfg.wave_obs_aa, "flux_flat": flux_flat, "flux_snid": flux_snid,
              "covered": chosen.covered_obs}
    return table, timing, arrays


def compare_with_snid_sage(spectra: SpectraSet, snid: pd.DataFrame, snid_timing: dict,
                           classifier: torch.nn.Module, redshift_model: torch.nn.Module,
                           classes: list[str], cfg: RealiseConfig) -> Comparison:
    """SpectraNet on the spectra SNID-SAGE answered (``snid_on_test_subset``'s table and
    timing), timed alike; both methods' answers, timing and scores side by side."""
    chosen = spectra.select(snid["row"].to_numpy())
    proba, z_pred, net_seconds = run_spectranet(classifier, redshift_model, chosen.flux_obs,
                                                chosen.covered_obs, cfg.preprocess)
    table = snid.assign(spectranet_class=[classes[k] for k in proba.argmax(axis=1)],
                        spectranet_redshift=z_pred)
    timing = {**snid_timing, "spectranet_timed": SPECTRANET_TIMED,
              "spectranet_seconds": net_seconds,
              "spectranet_spectra_per_second": len(table) / net_seconds}
    return Comparison(table, timing, score_comparison(table, timing), {})
