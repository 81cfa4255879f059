import numpy as np
import pandas as pd
import pytest
import torch

from ciderlab.applecider.alerts.tables import packets_to_tables
from ciderlab.applecider.fusion import FusionClassifier
from ciderlab.applecider.training import (MultimodalConfig, build_model_config, fit_fold, issued_by,
                                          train_multimodal)
from ciderlab.applecider.baselines import BASELINES, baseline_probabilities
from ciderlab.applecider.inputs import (assemble_alerts, cut_history, fold_tensors,
                                               object_labels, take)



def tiny_config(**overrides) -> MultimodalConfig:
    """The repository's train_multimodal section, shrunk to seconds."""
    from ciderlab.params import load_params

    return MultimodalConfig.from_params({**load_params()["train_multimodal"], **TINY, **overrides})


SIMBAD = {"AGN-like": "QSO", "star": "Star", "variable star": "RRLyr"}
CLASSES = ["AGN-like", "variable star", "star"]
SGSCORE = {"AGN-like": 0.05, "variable star": 0.5, "star": 0.95}  # a telling metadata field
JD0 = 2460000.5
TINY = dict(photometry=dict(d_model=8, n_heads=2, n_layers=1, ff_multiplier=2, dropout=0.0),
            astrominn=dict(image_channels=(4,), tower_hidden=8, tower_out=8, expert_hidden=8,
                           embedding_dim=8),
            towers=("ps1_neighbour_1", "light_curve"), projection_dim=8, fusion_dropout=0.0,
            batch_size=16, lr=1e-2, max_events=12, early_days=(2,), early_modes=("photo",))


def epoch(jd, mag, fid=1):
    return {"jd": jd, "fid": fid, "magpsf": mag, "sigmapsf": 0.05, "diffmaglim": 20.5,
            "isdiffpos": "t"}


def packets_of(object_id, label, n_epochs, rng, conflicting=False):
    """Two alerts of one object: the second sees the first's epochs in its history."""
    times = JD0 + np.sort(rng.uniform(0, 20, n_epochs))
    mags = 18 + (np.linspace(0, -1, n_epochs) if label == "AGN-like" else
                 0.5 * np.sin(np.arange(n_epochs) * 2.0) if label == "variable star" else
                 0.05 * rng.normal(size=n_epochs))
    history = [epoch(t, m, fid=1 + k % 2) for k, (t, m) in enumerate(zip(times, mags))]
    history.insert(0, {**epoch(times[0] - 1, None), "magpsf": None})  # a limit before it
    packets = []
    for k, last in enumerate((n_epochs // 2, n_epochs - 1)):
        candidate = {**history[last + 1], "jdstarthist": times[0],
                     "sgscore1": SGSCORE[label] + 0.02 * rng.normal(), "distpsnr1": 1.0,
                     "ndethist": last + 1, "ncovhist": last + 2}
        packets.append({"objectId": object_id, "candid": hash((object_id, k)) % 10**12,
                        "candidate": candidate, "prv_candidates": history[:last + 1],
                        "cdsxmatch": "Unknown" if conflicting and k else SIMBAD[label]})
    return packets


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(0)
    packets = [p for label in CLASSES for i in range(12)
               for p in packets_of(f"ZTF{label[:3]}{i:03d}", label, 8, rng)]
    packets += packets_of("ZTFunlabelled", "star", 8, rng, conflicting=True)
    packets[-1]["cdsxmatch"] = "YSO"  # one object, two classes: left out
    result = packets_to_tables(packets)
    # Stamps in memory (no FITS needed here): a constant image per alert.
    result.cutouts = rng.normal(size=(len(result.metadata), 63, 63, 3)).astype(np.float32)
    result.cutout_index = result.metadata[["objectId", "candid"]].copy()
    return result


def test_an_object_with_two_classes_is_left_out(tables):
    labels = object_labels(tables.metadata)
    assert "ZTFunlabelled" not in set(labels["object_id"])
    assert len(labels) == 36


def test_events_stop_at_the_alert_and_keep_the_most_recent(tables):
    inputs = assemble_alerts(tables, CLASSES, max_events=12)
    n_events = (~inputs.padding).sum(axis=1)
    first, second = n_events[0], n_events[1]  # the same object's two alerts, in time order
    assert inputs.alerts["objectId"].iloc[0] == inputs.alerts["objectId"].iloc[1]
    assert first == 6 and second == 9        # the limit + 5, then + all 8 detections
    assert inputs.events[0, 0, 7] == 1.0     # the limit before first detection is flagged
    short = assemble_alerts(tables, CLASSES, max_events=4)
    assert (~short.padding).sum(axis=1).max() == 4
    np.testing.assert_array_equal(short.events[1], inputs.events[1, 5:9])  # the last four


def test_history_cut_keeps_only_the_first_days(tables):
    cut = cut_history(tables.lightcurve, 2.0)
    assert cut["dt_days"].max() <= 2.0 and len(cut) < len(tables.lightcurve)
    inputs = assemble_alerts(tables, CLASSES, max_events=12, history_days=2.0)
    real_times = inputs.events[~inputs.padding][:, 0]
    assert real_times.max() <= np.log1p(2.0) + 1e-6
    full = assemble_alerts(tables, CLASSES, max_events=12)
    assert (~inputs.padding).sum() < (~full.padding).sum()
    assert inputs.alerts["candid"].equals(full.alerts["candid"])


def test_scaling_statistics_come_from_the_training_rows_only(tables):
    inputs = assemble_alerts(tables, CLASSES, max_events=12)
    train_rows = np.arange(0, 40)
    batch, _ = fold_tensors(inputs, train_rows, ("ps1_neighbour_1",))
    inputs.events[40:, :, :4] += 100.0
    inputs.metadata.loc[40:, "sgscore1"] = 50.0
    changed, _ = fold_tensors(inputs, train_rows, ("ps1_neighbour_1",))
    assert torch.equal(batch["events"][:40], changed["events"][:40])
    assert torch.equal(batch["metadata"]["ps1_neighbour_1"][:40],
                       changed["metadata"]["ps1_neighbour_1"][:40])
    real = ~batch["padding"][:40]
    assert abs(float(batch["events"][:40][real][:, 0].mean())) < 1e-5  # standardised on them
    inputs.events[40:, :, :4] -= 100.0


def test_a_resumed_run_matches_an_uninterrupted_one(tables, tmp_path):
    inputs = assemble_alerts(tables, CLASSES, max_events=12)
    batch, _ = fold_tensors(inputs, np.arange(len(inputs)), ("ps1_neighbour_1", "light_curve"))
    config = tiny_config(epochs=4)
    model_config = build_model_config("ztf", CLASSES, config)

    def fresh():
        torch.manual_seed(0)
        return FusionClassifier(model_config)

    straight = fresh()
    fit_fold(straight, batch, config)
    interrupted = fresh()
    fit_fold(interrupted, batch, tiny_config(**{"epochs": 2}), tmp_path / "s.pt", "r")
    resumed = fresh()
    history = fit_fold(resumed, batch, config, tmp_path / "s.pt", "r")
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b)


def test_cross_validation_keeps_objects_in_one_fold_and_learns(tables, tmp_path):
    config = tiny_config(**{"modes": ("photo", "meta", "all"), "n_folds": 3,
                                 "epochs": 25})
    result = train_multimodal(tables, config, min_objects_per_class=10, state_dir=tmp_path,
                              progress=False)
    predictions = result.predictions
    full = predictions[predictions["history_days"].isna()]
    assert (full.groupby("objectId")["fold"].nunique() == 1).all()
    assert (full.groupby(["mode", "candid"]).size() == 1).all()
    assert set(full["mode"]) == {"photo", "meta", *BASELINES}
    assert "all" in result.metrics["skipped_modes"]
    assert len(full) == 5 * 72                      # every labelled alert, each mode and baseline
    np.testing.assert_allclose(full[[f"p_{c}" for c in CLASSES]].sum(axis=1), 1.0, rtol=1e-5)
    early = predictions[predictions["history_days"] == 2.0]
    assert set(early["mode"]) == {"photo"} and len(early) == 72
    # every mode and baseline scored on the same alerts issued within 2 days
    issued = result.metrics["early_issued"]
    assert set(issued) == {"photo", "meta", *BASELINES}
    n_by_day = (full[full["mode"] == "meta"]["days_since_first_detection"] <= 2).sum()
    for by_days in issued.values():  # no alert is issued within 2 days here: no score at 2
        assert (by_days["2"]["n_alerts"] == n_by_day) if n_by_day else ("2" not in by_days)
    # sgscore1 tells the classes apart: far above a constant prediction's 1/6 macro-F1
    scores = {m: s["macro_f1"]["mean"] for m, s in result.metrics["modes"].items()}
    assert scores["meta"] > 0.8
    # the baselines: always one class scores 1/3 of one class's F1 over 3 classes; the linear
    # model on the same metadata learns it too; guessing does worse than both
    assert scores["majority class"] < 0.35
    assert scores["logistic regression (metadata)"] > 0.8
    assert scores["stratified chance"] < scores["logistic regression (metadata)"]
    assert result.metrics["objects_left_out_for_conflicting_labels"] == 1
    routing = result.routing
    assert set(routing["mode"]) == {"meta"}
    experts = routing[[c for c in routing if c.startswith("expert_")]].to_numpy()
    assert ((experts > 0).sum(axis=1) == 2).all()
    assert not list(tmp_path.glob("*.pt"))  # state files removed once every run finished


def test_the_params_schema_is_the_configs_fields():
    from dataclasses import fields

    from ciderlab.applecider.astrominn import AstroMiNNConfig
    from ciderlab.applecider.photometry_transformer import PhotometryTransformerConfig
    from ciderlab.params import SCHEMA, load_params

    section = SCHEMA["train_multimodal"]
    assert set(section) == {f.name for f in fields(MultimodalConfig)} | {"torch_threads"}
    assert set(section["photometry"]) == ({f.name for f in fields(PhotometryTransformerConfig)}
                                          - {"n_channels", "n_classes", "pretrain_head"})
    assert set(section["astrominn"]) == ({f.name for f in fields(AstroMiNNConfig)}
                                         - {"n_classes", "use_image", "tower_sizes"})
    params = load_params()["train_multimodal"]  # the repository's own section builds
    config = MultimodalConfig.from_params(params)
    assert build_model_config("ztf", CLASSES, config).astrominn.tower_sizes


def test_pretraining_epochs_come_first_and_only_where_there_is_photometry(tables):
    inputs = assemble_alerts(tables, CLASSES, max_events=12)
    batch, _ = fold_tensors(inputs, np.arange(len(inputs)), ("ps1_neighbour_1", "light_curve"))
    config = tiny_config(**{"epochs": 1, "pretrain_epochs": 2})
    torch.manual_seed(0)
    photo = FusionClassifier(build_model_config("photo", CLASSES, config))
    history = fit_fold(photo, take(batch, np.arange(24)), config)
    assert [row["phase"] for row in history] == ["pretrain", "pretrain", "train"]
    assert np.isfinite([row["train_loss"] for row in history]).all()
    meta = FusionClassifier(build_model_config("meta", CLASSES, config))
    assert [row["phase"] for row in fit_fold(meta, take(batch, np.arange(24)), config)] == ["train"]


def test_baselines_answer_with_probabilities_over_every_class():
    x = np.array([[0.0], [0.1], [1.0], [1.1], [1.2]])
    y = np.array([0, 0, 2, 2, 2])  # class 1 never trained on
    majority = baseline_probabilities("majority class", x, y, x[:2], 3, seed=0)
    np.testing.assert_array_equal(majority, [[0, 0, 1], [0, 0, 1]])
    linear = baseline_probabilities("logistic regression (metadata)", x, y, x, 3, seed=0)
    assert linear.shape == (5, 3) and (linear[:, 1] == 0).all()
    assert list(linear.argmax(axis=1)) == [0, 0, 2, 2, 2]
    chance = baseline_probabilities("stratified chance", x, y, np.zeros((50, 1)), 3, seed=1)
    assert set(chance.argmax(axis=1)) == {0, 2}
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_probabilities("oracle", x, y, x, 3, seed=0)


def test_issued_by_scores_every_mode_on_the_alerts_of_each_date():
    """Two modes, two folds; alerts at 0.5, 3 and 20 days. By day 1 only the first alert of
    each fold counts; mode b is right on it, mode a wrong."""
    rows = []
    for mode, right_early in (("a", False), ("b", True)):
        for fold in (0, 1):
            for days, true in ((0.5, "x"), (3.0, "y"), (20.0, "x")):
                called = true if (days > 1 or right_early) else ("y" if true == "x" else "x")
                rows.append({"mode": mode, "fold": fold, "history_days": np.nan,
                             "days_since_first_detection": days, "true": true,
                             "p_x": float(called == "x"), "p_y": float(called == "y")})
    issued = issued_by(pd.DataFrame(rows), ["x", "y"], (1.0, 30.0))
    # day 1: one x alert per fold; b calls it x: F1 x = 1, y absent and never called = 0
    assert issued["b"]["1"]["macro_f1"]["values"] == [0.5, 0.5]
    assert issued["a"]["1"]["macro_f1"]["values"] == [0.0, 0.0]
    assert issued["a"]["1"]["n_alerts"] == issued["b"]["1"]["n_alerts"] == 2
    assert issued["b"]["30"]["n_alerts"] == 6 and issued["b"]["30"]["macro_f1"]["mean"] == 1.0
