import numpy as np
import pandas as pd
import pytest

from recipes import recipe
from ciderlab.training.heads import CLASSIFIER
from ciderlab.data.labels import class_indices
from ciderlab.data.split import scored_rows
from ciderlab.evaluation.metrics import seed_summary
from ciderlab.training.runs import train_one
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


def test_only_the_first_realisations_are_scored():
    meta = toy_meta()
    rows = scored_rows(meta, "train", 2)
    assert set(meta.loc[rows, "object_id"]) == {"ia1", "t1"}
    assert (meta.loc[rows, "realisation"] < 2).all() and len(rows) == 8  # t1's extras left out
    assert len(scored_rows(meta, "train", 10**9)) == 14


def test_training_does_not_touch_the_callers_random_state():
    import torch

    from ciderlab.spectranet.model import SpectraNetConfig

    config = SpectraNetConfig(n_bins=16, n_outputs=2, channels=(2, 2, 2, 2, 2),
                              kernels=((3, 3, 3),) * 5, hidden=4, dropout=0.0)
    rng = np.random.default_rng(0)
    flux = rng.normal(size=(12, 16)).astype(np.float32)
    target = torch.as_tensor(np.arange(12) % 2)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    trained = train_one(CLASSIFIER, flux, target, np.arange(8), np.arange(8, 12), config,
                        recipe(seed=5, max_epochs=1, batch_size=4, warmup_epochs=0), "toy",
                        progress=False)
    assert torch.equal(torch.get_rng_state(), before)
    again = train_one(CLASSIFIER, flux, target, np.arange(8), np.arange(8, 12), config,
                      recipe(seed=5, max_epochs=1, batch_size=4, warmup_epochs=0), "toy",
                      progress=False)
    for a, b in zip(trained.model.parameters(), again.model.parameters()):
        assert torch.equal(a, b)  # the seed alone fixes the result


def test_training_reads_a_memory_mapped_set_one_batch_at_a_time(tmp_path):
    import torch

    from ciderlab.spectranet.model import SpectraNetConfig

    config = SpectraNetConfig(n_bins=16, n_outputs=2, channels=(2, 2, 2, 2, 2),
                              kernels=((3, 3, 3),) * 5, hidden=4, dropout=0.0)
    flux = np.random.default_rng(0).normal(size=(12, 16)).astype(np.float32)
    np.save(tmp_path / "flux.npy", flux)
    target = torch.as_tensor(np.arange(12) % 2)

    class Reads:  # a memory-mapped array that records how many rows each read asks for
        def __init__(self, array):
            self.array, self.sizes = array, []

        def __getitem__(self, rows):
            self.sizes.append(len(rows))
            return self.array[rows]

    mapped = Reads(np.load(tmp_path / "flux.npy", mmap_mode="r"))
    cfg = recipe(seed=5, max_epochs=2, batch_size=3, warmup_epochs=0)
    lazily = train_one(CLASSIFIER, mapped, target, np.arange(9), np.arange(9, 12), config,
                       cfg, "toy", progress=False)
    eagerly = train_one(CLASSIFIER, flux, target, np.arange(9), np.arange(9, 12), config,
                        cfg, "toy", progress=False)
    assert max(mapped.sizes) == 3  # batches of 3 and the 3 validation rows, never all 9
    assert lazily.history[-1]["train_loss"] == eagerly.history[-1]["train_loss"]
    for a, b in zip(lazily.model.parameters(), eagerly.model.parameters()):
        assert torch.equal(a, b)


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
    # a score no seed could compute (SN Ia purity when nothing is called SN Ia) reads n/a
    assert mean_std({"mean": None, "std": None, "values": [None, None]}) == "n/a"


def test_class_targets_refuses_unknown_labels():
    assert class_indices(pd.Series(["B", "A"]), ["A", "B"]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="SLSN"):
        class_indices(pd.Series(["A", "SLSN-I"]), ["A", "B"])
