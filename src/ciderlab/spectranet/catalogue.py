"""Which template spectra enter the data set, with which label, and why the others do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ciderlab.data.labels import class_of_subtype, drop_reason, fix_label
from ciderlab.spectra.grid import coverage_of
from ciderlab.spectranet.templates import TemplateBank


def coverage_fraction(wave_aa: np.ndarray, flux: np.ndarray, window_aa: tuple[float, float]) -> float:
    """Fraction of ``window_aa`` (in ln lambda) that a template's coverage spans."""
    covered = coverage_of(flux)
    if not covered.any():
        return 0.0
    lo, hi = wave_aa[covered][0], wave_aa[covered][-1]
    overlap = np.log(min(hi, window_aa[1])) - np.log(max(lo, window_aa[0]))
    return float(max(overlap, 0.0) / np.log(window_aa[1] / window_aa[0]))


def build_catalogue(bank: TemplateBank, classes: tuple[str, ...], rest_window_aa: tuple[float, float],
                    min_coverage_fraction: float) -> pd.DataFrame:
    """One row per template spectrum: its fixed label, object id, and ``reason`` if dropped.

    ``rest_window_aa`` is the rest-frame range an SEDM spectrum can show over the redshift range;
    a template covering less than ``min_coverage_fraction`` of it is dropped (e.g. the two
    broad-absorption-line QSOs, which cover only the UV).
    """
    rows = []
    for index, spectrum in enumerate(bank.spectra):
        named = fix_label(spectrum.name, spectrum.subtype)
        label = class_of_subtype(named.subtype, classes)
        reason = drop_reason(spectrum.name, spectrum.age_days)
        fraction = coverage_fraction(bank.wave_rest_aa, spectrum.flux, rest_window_aa)
        if reason is None and label is None:
            reason = f"subtype {named.subtype} is not one of the configured classes"
        if reason is None and fraction < min_coverage_fraction:
            reason = (f"covers {fraction:.0%} of the rest-frame SEDM window "
                      f"(< {min_coverage_fraction:.0%})")
        rows.append({"spectrum_index": index, "template": spectrum.name, "epoch": spectrum.epoch,
                     "object_id": named.object_id, "snid_type": spectrum.sn_type,
                     "subtype": named.subtype, "label": label or "", "age_days": spectrum.age_days,
                     "coverage_fraction": round(fraction, 4), "label_fix": named.fix_reason or "",
                     "reason": reason or ""})
    return pd.DataFrame(rows)


def drop_rare_classes(catalogue: pd.DataFrame, classes: tuple[str, ...],
                      min_objects: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop classes with fewer than ``min_objects`` usable objects; return the reasons.

    No spectrum is ever invented for a missing class: it is reported instead.
    """
    kept = catalogue[catalogue["reason"] == ""]
    n_objects = kept.groupby("label")["object_id"].nunique()
    dropped = {}
    for label in classes:
        count = int(n_objects.get(label, 0))
        if count < min_objects:
            dropped[label] = (f"{count} usable real object(s) in the template bank, fewer than "
                              f"the {min_objects} needed (labels.min_objects)")
    catalogue = catalogue.copy()
    rare = catalogue["label"].isin(list(dropped)) & (catalogue["reason"] == "")
    catalogue.loc[rare, "reason"] = "class dropped: too few objects"
    return catalogue, dropped
