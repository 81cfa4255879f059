"""The evaluate stage's diagnostics, on hand-made spectra and a classifier with known answers."""

import numpy as np
import pandas as pd
import torch

from ciderlab.evaluation.evaluate import EvaluateConfig, seen_against_unseen
from ciderlab.evaluation.tables import table_seen_against_unseen
from ciderlab.io import SpectraSet

CLASSES = ["SN Ia", "SN II"]


class FirstBinClassifier(torch.nn.Module):
    """Class 0 when the first bin is positive, else class 1: its answers are set by the data."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(10.0))

    def forward(self, flux):
        return torch.stack([flux[:, 0], -flux[:, 0]], dim=1) * self.scale


def spectra_with(rows: list[dict]) -> SpectraSet:
    """One spectrum per row: ``correct`` decides whether the classifier gets it right."""
    meta = pd.DataFrame(rows)
    n, length = len(meta), 8
    sign = np.where(meta["label"] == "SN Ia", 1.0, -1.0) * np.where(meta["correct"], 1.0, -1.0)
    flux = np.zeros((n, length), np.float32)
    flux[:, 0] = sign
    covered = np.ones((n, length), bool)
    wave = np.linspace(4000, 8000, length)
    return SpectraSet(wave, wave, flux, flux, covered, covered, meta)


def row(object_id, label, split, correct, snr=50.0, host=0.0, realisation=0):
    return {"object_id": object_id, "label": label, "split": split, "correct": correct,
            "snr": snr, "host_fraction": host, "realisation": realisation}


CFG = EvaluateConfig(narrow_obs_wave_min_aa=4500, narrow_obs_wave_max_aa=7500, clean_snr_min=40,
                     clean_host_fraction_max=0.15)


def test_seen_objects_score_perfectly_and_new_ones_do_not():
    spectra = spectra_with([
        row("a", "SN Ia", "train", True), row("b", "SN II", "train", True),
        row("c", "SN Ia", "test", True), row("d", "SN II", "test", False),
        row("e", "SN II", "test", True, snr=12.0),
        # Beyond the scored realisations: never counted, although the classifier gets it wrong.
        row("a", "SN Ia", "train", False, realisation=3)])
    scores = seen_against_unseen(FirstBinClassifier(), spectra, CLASSES, n_scored=2, cfg=CFG)
    assert scores["seen_all"]["f1"] == {"SN Ia": 1.0, "SN II": 1.0}
    assert scores["seen_all"]["n_objects"] == 2
    # New objects: c right (Ia), d wrong (II called Ia), e right (II): Ia F1 = 2/3, II F1 = 2/3.
    assert np.allclose(list(scores["unseen_all"]["f1"].values()), [2 / 3, 2 / 3])
    # The clean subset drops e (S/N 12 < 40): c right, d wrong.
    assert scores["unseen_clean"]["n_objects"] == 2
    assert scores["unseen_clean"]["f1"]["SN II"] == 0.0

    table = table_seen_against_unseen(scores)
    assert list(table.index) == CLASSES
    assert np.allclose(table["seen - new"], [1 / 3, 1 / 3])
    assert table.loc["SN II", "F1 new objects, clean"] == 0.0


def test_a_split_without_spectra_is_left_out_not_scored_as_zero():
    spectra = spectra_with([row("a", "SN Ia", "train", True), row("b", "SN II", "train", False)])
    scores = seen_against_unseen(FirstBinClassifier(), spectra, CLASSES, n_scored=1, cfg=CFG)
    assert "unseen_all" not in scores and "unseen_clean" not in scores
    assert scores["seen_all"]["f1"]["SN II"] == 0.0
