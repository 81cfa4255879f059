import numpy as np
import pandas as pd
import pytest

from ciderlab.training.runs import class_targets, leave_one_out_folds, leave_one_out_summary, seed_summary
from ciderlab.evaluation.tables import mean_std, table_seed_report


def toy_meta():
    """Objects of a common class in every split, and a rare class with three objects."""
    rows = []
    for obj, label, split, n_real in [("ia1", "SN Ia", "train", 2), ("ia2", "SN Ia", "val", 2),
                                      ("ia3", "SN Ia", "test", 2), ("t1", "TDE", "train", 5),
                                      ("t2", "TDE", "val", 2), ("t3", "TDE", "test", 2)]:
        for spectrum in range(2):
            for r in range(n_real):
                rows.append({"object_id": obj, "label": label, "split": split,
                             "template": obj, "epoch": spectrum, "realisation": r})
    return pd.DataFrame(rows)


def test_leave_one_out_holds_out_exactly_one_object_per_fold():
    meta = toy_meta()
    folds = leave_one_out_folds(meta, ["TDE"], n_realisations=2)
    assert [f.object_id for f in folds] == ["t1", "t2", "t3"]
    for fold in folds:
        held = set(np.flatnonzero(meta["object_id"] == fold.object_id))
        assert held.isdisjoint(fold.train_rows) and held.isdisjoint(fold.val_rows)
        assert set(fold.test_rows) <= held
        # the other TDE objects train, whatever their split; the common class trains on its
        # training split only, and validation holds no TDE at all
        train_objects = set(meta.loc[fold.train_rows, "object_id"])
        assert train_objects == {"ia1"} | ({"t1", "t2", "t3"} - {fold.object_id})
        assert set(meta.loc[fold.val_rows, "object_id"]) == {"ia2"}
    # t1 is a training object with 5 realisations per spectrum; its test keeps 2 per spectrum
    assert len(folds[0].test_rows) == 4
    assert (meta.loc[folds[0].test_rows, "realisation"] < 2).all()


def test_leave_one_out_refuses_a_class_without_spectra():
    with pytest.raises(ValueError, match="AGN"):
        leave_one_out_folds(toy_meta(), ["AGN"], n_realisations=2)


def test_leave_one_out_summary_counts_spectra_and_objects():
    objects = pd.DataFrame({"object_id": ["a", "b"], "label": ["TDE", "TDE"],
                            "n_spectra": [4, 2], "n_correct": [4, 0], "recall": [1.0, 0.0],
                            "top_prediction": ["TDE", "SN Ia"]})
    summary = leave_one_out_summary(objects)["TDE"]
    assert summary["recall"] == pytest.approx(4 / 6)  # over spectra
    assert summary["mean_object_recall"] == pytest.approx(0.5)  # over objects
    assert summary["objects_mostly_correct"] == 1 and summary["n_objects"] == 2


def metrics(acc, f1_a, f1_b):
    per_class = {"A": {"precision": f1_a, "recall": f1_a, "f1": f1_a, "support": 3},
                 "B": {"precision": f1_b, "recall": f1_b, "f1": f1_b, "support": 2},
                 "C": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}}
    return {"accuracy": acc, "macro_f1": (f1_a + f1_b) / 2, "top3_accuracy": 1.0,
            "macro_roc_auc": 0.9, "per_class": per_class,
            "ia_vs_non_ia": {"accuracy": acc, "purity": 1.0, "completeness": acc}}


def test_seed_summary_is_mean_and_sample_std_over_seeds():
    summary = seed_summary({42: metrics(0.8, 0.6, 0.4), 777: metrics(0.6, 0.8, 0.2)},
                           ["A", "B", "C"])
    assert summary["seeds"] == [42, 777]
    assert summary["accuracy"]["mean"] == pytest.approx(0.7)
    assert summary["accuracy"]["std"] == pytest.approx(np.std([0.8, 0.6], ddof=1))
    assert summary["per_class"]["B"]["f1"]["values"] == [0.4, 0.2]
    assert "C" not in summary["per_class"]  # no test spectra: nothing to average
    assert summary["ia_vs_non_ia"]["completeness"]["mean"] == pytest.approx(0.7)
    one = seed_summary({42: metrics(0.8, 0.6, 0.4)}, ["A", "B", "C"])
    assert np.isnan(one["accuracy"]["std"]) and mean_std(one["accuracy"]) == "0.800"
    table = table_seed_report(summary)
    assert table.loc["macro-F1", "F1 / score"] == "0.500 ± 0.000"
    assert table.loc["A", "F1 / score"] == mean_std(summary["per_class"]["A"]["f1"])


def test_class_targets_refuses_unknown_labels():
    assert class_targets(pd.Series(["B", "A"]), ["A", "B"]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="SLSN"):
        class_targets(pd.Series(["A", "SLSN-I"]), ["A", "B"])
