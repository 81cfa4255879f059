"""The evaluate stage's diagnostics, on hand-made spectra and a classifier with known answers."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch

import pytest

from ciderlab.spectranet.evaluate import (EvaluateConfig, clean_subset_scores, evaluate_test_set,
                                          seen_against_unseen)
from ciderlab.evaluation.tables import table_seen_against_unseen
from ciderlab.io import SpectraSet
from ciderlab.params import load_params
from ciderlab.spectra.preprocess import PreprocessConfig

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
    scores = seen_against_unseen(FirstBinClassifier(), spectra, CLASSES, CLASSES, n_scored=2,
                                 cfg=CFG)
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
    scores = seen_against_unseen(FirstBinClassifier(), spectra, CLASSES, CLASSES, n_scored=1,
                                 cfg=CFG)
    assert "unseen_all" not in scores and "unseen_clean" not in scores
    assert scores["seen_all"]["f1"]["SN II"] == 0.0


def test_clean_subset_scores_the_headline_and_compares_on_the_same_classes():
    """Classes [SN Ia, SN II, AGN], headline [SN Ia, SN II]. Clean (S/N >= 40, host <= 0.15):
    rows 0-2 (Ia right, Ia right, II called Ia) and the AGN (row 5, called AGN). Not clean:
    row 3 (II right, S/N 12) and row 4 (Ia called II, host 0.5)."""
    classes, headline = ["SN Ia", "SN II", "AGN"], ["SN Ia", "SN II"]
    y_true = np.array([0, 0, 1, 1, 0, 2])
    proba = np.eye(3)[[0, 0, 0, 1, 1, 2]]
    meta = pd.DataFrame({"snr": [50, 50, 50, 12, 50, 50],
                         "host_fraction": [0, 0, 0, 0, 0.5, 0]})
    scores = clean_subset_scores(y_true, proba, meta, classes, headline, CFG)
    # clean headline spectra: Ia F1 = 2 * (2/3 * 1) / (2/3 + 1) = 0.8, II F1 = 0
    assert scores["n_spectra"] == 3
    assert scores["macro_f1"] == pytest.approx(0.4)
    assert scores["separate"] == {"AGN": {"n_spectra": 1, "recall": 1.0}}
    same = scores["macro_f1_same_classes"]
    assert same["classes"] == headline and same["clean"] == pytest.approx(0.4)
    # all five headline spectra: Ia P 2/3 R 2/3 -> 2/3; II P 1/2 R 1/2 -> 1/2
    assert same["all_test"] == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_evaluate_test_set_scores_the_headline_classes_and_every_seed_alike():
    """The fixed split's scores on four test spectra: two SN Ia (one right), one SN II (right),
    one AGN (called SN Ia, reported apart). The second seed's model answers the opposite."""
    classes, headline = ["SN Ia", "SN II", "AGN"], ["SN Ia", "SN II"]

    class ThreeClass(FirstBinClassifier):
        def __init__(self, sign: float = 1.0):
            super().__init__()
            self.sign = sign

        def forward(self, flux):
            first = self.sign * flux[:, 0]
            return torch.stack([first, -first, torch.zeros_like(first)], dim=1) * self.scale

    spectra = spectra_with([row("a", "SN Ia", "test", True), row("b", "SN Ia", "test", False),
                            row("c", "SN II", "test", True), row("d", "SN Ia", "test", True)])
    spectra.meta.loc[3, "label"] = "AGN"  # its first bin is positive: called SN Ia
    spectra.meta["redshift"] = 0.05
    y_true = np.array([0, 0, 1, 2])
    preprocess = PreprocessConfig.from_resolved(
        load_params(Path(__file__).resolve().parents[1] / "params.yaml"))
    metrics, predictions = evaluate_test_set(
        ThreeClass(), classes, headline, spectra, y_true, preprocess, CFG,
        {42: ThreeClass(), 777: ThreeClass(-1.0)})
    # Ia: P 1/1, R 1/2 -> 2/3; II: P 1/2, R 1 -> 2/3
    assert metrics["macro_f1"] == pytest.approx(2 / 3)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["separate"] == {"AGN": {"n_spectra": 1, "recall": 0.0}}
    # seed 777 calls a and d SN II, b and c SN Ia: Ia P 1/2 R 1/2 -> 1/2; II no hit -> 0
    assert metrics["seeds"]["macro_f1"]["values"] == pytest.approx([2 / 3, 1 / 4])
    assert metrics["seeds"]["accuracy"]["values"] == pytest.approx([2 / 3, 1 / 3])
    assert list(predictions["predicted"]) == ["SN Ia", "SN II", "SN II", "SN Ia"]
