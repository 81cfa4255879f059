"""``ciderlab classify-alerts``: AppleCiDEr's trained modes on ZTF alert packets, one answer per
object.

Each object is answered at its latest usable alert, from everything known then: the light
curve of all its packets' histories up to that alert, the alert's own stamps and metadata.
Every mode found in the models folder answers (each the mean over its cross-validation fold
models, ``ensemble.AlertEnsemble``); the fused mode ``ztf`` gives the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ciderlab.applecider.alerts.tables import packets_to_tables
from ciderlab.applecider.ensemble import (FUSED_MODE, AlertModels, ensemble_arrays,
                                          ensemble_probabilities)
from ciderlab.applecider.inputs import assemble_alerts
from ciderlab.data.labels import UNLABELLED
from ciderlab.errors import InputError


@dataclass(frozen=True)
class AlertAnswer:
    """One object's answer: its latest alert, and each mode's class probabilities."""

    object_id: str
    candid: int
    jd: float
    n_alerts: int
    days_since_first_detection: float
    n_events: int                      # light-curve events the photometry model saw
    modes: dict[str, dict[str, float]]  # mode -> class -> probability
    answer_mode: str                   # the mode the answer comes from
    known_label: str | None            # the packets' own label (Fink's SIMBAD group), if any

    @property
    def answer(self) -> tuple[str, float]:
        probabilities = self.modes[self.answer_mode]
        best = max(probabilities, key=probabilities.get)
        return best, probabilities[best]


def classify_packets(packets: list[dict], models: AlertModels, stamp_size: int = 63,
                     normalisation: str = "l2") -> list[AlertAnswer]:
    """Answers for the objects of ``packets`` (checked with ``packet_files.packet_problem``).

    ``stamp_size`` and ``normalisation`` must be those the models were trained with (params.yaml
    ``alerts``).
    """
    if not packets:
        raise InputError("no usable alert packets to classify (see the reasons above)")
    tables = packets_to_tables(packets, stamp_size=stamp_size, normalisation=normalisation)
    inputs = assemble_alerts(tables, models.classes, models.max_events, models.include_limits,
                             labelled_only=False)
    arrays = ensemble_arrays(inputs)
    probabilities = {mode: ensemble_probabilities(ensemble, arrays)
                     for mode, ensemble in models.ensembles.items()}
    alerts = inputs.alerts.assign(jd=inputs.metadata["jd"].to_numpy(),
                                  n_events=(~inputs.padding).sum(axis=1))
    known = tables.metadata.groupby("objectId")["label"].agg(
        lambda s: next((v for v in s if v != UNLABELLED), None))
    answer_mode = FUSED_MODE if FUSED_MODE in probabilities else next(iter(probabilities))
    answers = []
    for object_id, rows in alerts.groupby("objectId", sort=True):
        last = rows.index[np.argmax(rows["jd"].to_numpy())]  # rows are sorted by jd already
        answers.append(AlertAnswer(
            object_id=str(object_id), candid=int(alerts.at[last, "candid"]),
            jd=float(alerts.at[last, "jd"]), n_alerts=len(rows),
            days_since_first_detection=float(alerts.at[last, "days_since_first_detection"]),
            n_events=int(alerts.at[last, "n_events"]),
            modes={mode: {c: float(p[last, k]) for k, c in enumerate(models.classes)}
                   for mode, p in probabilities.items()},
            answer_mode=answer_mode, known_label=known.get(object_id)))
    return answers


def _top(probabilities: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    return sorted(probabilities.items(), key=lambda kv: -kv[1])[:n]


def format_alert_answers(answers: list[AlertAnswer], style: str = "text") -> str:
    """The answers as text (a block per object), ``csv`` (a row per object, a column per mode
    and class) or ``json``."""
    if style == "json":
        return json.dumps([{
            "objectId": a.object_id, "candid": a.candid, "jd": a.jd, "n_alerts": a.n_alerts,
            "days_since_first_detection": a.days_since_first_detection,
            "n_events": a.n_events, "answer": a.answer[0], "probability": a.answer[1],
            "answer_mode": a.answer_mode, "known_label": a.known_label, "modes": a.modes}
            for a in answers], indent=2) + "\n"
    if style == "csv":
        rows = []
        for a in answers:
            row = {"objectId": a.object_id, "candid": a.candid, "jd": a.jd,
                   "n_alerts": a.n_alerts,
                   "days_since_first_detection": round(a.days_since_first_detection, 4),
                   "n_events": a.n_events, "answer": a.answer[0],
                   "probability": round(a.answer[1], 4), "answer_mode": a.answer_mode,
                   "known_label": a.known_label or ""}
            for mode, probabilities in a.modes.items():
                row.update({f"{mode}_p_{c}": round(p, 4) for c, p in probabilities.items()})
            rows.append(row)
        return pd.DataFrame(rows).to_csv(index=False)
    if style != "text":
        raise ValueError(f"unknown style {style!r}")
    width = max(len(mode) for a in answers for mode in a.modes) + 2
    lines = []
    for a in answers:
        known = f"; packets say {a.known_label}" if a.known_label else ""
        lines.append(f"{a.object_id}  candid {a.candid}  ({a.n_alerts} alert"
                     f"{'s' if a.n_alerts != 1 else ''}, {a.n_events} light-curve events, "
                     f"{a.days_since_first_detection:.1f} d since first detection{known})")
        best, p = a.answer
        lines.append(f"  answer: {best} ({p:.2f}, {a.answer_mode} mode)")
        for mode, probabilities in a.modes.items():
            top = "   ".join(f"{c} {q:.2f}" for c, q in _top(probabilities))
            lines.append(f"  {(mode + ':').ljust(width)}{top}")
    return "\n".join(lines) + "\n"
