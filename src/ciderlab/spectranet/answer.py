"""One spectrum's answer from ``classify_spectrum``, and the ways ``ciderlab classify`` prints
many: text lines, a table (CSV), JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ModelInputs:
    """What the models were given: (L,) grids in Angstrom, (L,) normalised flux, (L,) coverage."""

    wave_obs_aa: np.ndarray
    flux_obs: np.ndarray
    covered_obs: np.ndarray
    wave_rest_aa: np.ndarray
    flux_rest: np.ndarray
    covered_rest: np.ndarray


@dataclass(frozen=True)
class Classification:
    """One spectrum's answer.

    ``top`` holds the ``top`` most probable (class, probability) pairs, best first;
    ``probabilities`` every class's. ``redshift_source`` is "predicted" or "given"; ``snr`` is
    the median S/N per model resolution element, ``snr_source`` "errors" or "estimated (DER_SNR)";
    ``coverage`` the share of the model's observed window the spectrum covers.
    """

    redshift: float
    redshift_source: str
    top: list[tuple[str, float]]
    probabilities: dict[str, float]
    snr: float
    snr_source: str
    coverage: float
    inputs: ModelInputs
    warnings: list[str] = field(default_factory=list)
    none_of_these: bool | None = None  # None: no reliability settings given
    out_of_class_score: float | None = None
    redshift_interval: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {"redshift": self.redshift, "redshift_source": self.redshift_source,
                "redshift_interval": (None if self.redshift_interval is None
                                      else list(self.redshift_interval)),
                "none_of_these": self.none_of_these,
                "out_of_class_score": self.out_of_class_score,
                "top": [{"class": c, "probability": p} for c, p in self.top],
                "probabilities": self.probabilities, "snr": self.snr,
                "snr_source": self.snr_source, "coverage": self.coverage,
                "warnings": list(self.warnings)}


def classifications_table(results: dict[str, Classification], top: int = 3,
                          about: dict[str, dict] | None = None):
    """One row per file: redshift, the top classes and probabilities, S/N, coverage, warnings.

    ``about`` adds, after ``file``, what a catalogue says of each file (e.g. ``object``,
    ``true_class``), keyed like ``results``.
    """
    rows = []
    for name, result in results.items():
        low, high = result.redshift_interval or (float("nan"), float("nan"))
        row = {"file": name, **(about or {}).get(name, {}),
               "redshift": result.redshift, "redshift_low": low,
               "redshift_high": high, "redshift_source": result.redshift_source,
               "none_of_these": result.none_of_these}
        for i in range(top):
            label, p = result.top[i] if i < len(result.top) else ("", float("nan"))
            row[f"class_{i + 1}"], row[f"p_{i + 1}"] = label, p
        row.update(snr=result.snr, snr_source=result.snr_source, coverage=result.coverage,
                   warnings="; ".join(result.warnings))
        rows.append(row)
    return pd.DataFrame(rows)


def _bracketed(fields: dict | None) -> str:
    """`` [key: value, ...]`` for the text answers ("" for none); a missing value is "none"."""
    if not fields:
        return ""
    return " [" + ", ".join(f"{k}: {'none' if v is None or v != v else v}"
                            for k, v in fields.items()) + "]"


def format_answers(results: dict[str, Classification], style: str = "text",
                   about: dict[str, dict] | None = None) -> str:
    """The answers of many files as ``ciderlab classify`` prints them: ``text`` (one line per
    file, its warnings indented below), ``csv`` or ``json``; ``about`` as for
    ``classifications_table`` (in text: in brackets after the file name)."""
    about = about or {}
    if style == "json":
        return json.dumps([{"file": name, **about.get(name, {}), **r.to_dict()}
                           for name, r in results.items()], indent=2) + "\n"
    if style == "csv":
        return classifications_table(results, about=about).to_csv(index=False)
    return "".join(
        f"{name}{_bracketed(about.get(name))}: z = {r.redshift:.3f} ({r.redshift_source}"
        + (f", {r.redshift_interval[0]:.3f}-{r.redshift_interval[1]:.3f}"
           if r.redshift_interval else "") + "); "
        + ("none of the trained classes; nearest: " if r.none_of_these else "")
        + ", ".join(f"{c} {p:.2f}" for c, p in r.top)
        + f"; S/N {r.snr:.0f}, coverage {100 * r.coverage:.0f}%\n"
        + "".join(f"  warning: {w}\n" for w in r.warnings) for name, r in results.items())
