"""The real pipeline, end to end, on the smoke profile: raw data pull -> dvc repro -> book.

Runs `make repro` (the README's main command minus the environment, which this test already
runs in) in a temporary copy of the repository, on the real SNID-SAGE templates.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from own_alerts import check_own_alerts
from own_spectra import check_own_spectra

ROOT = Path(__file__).resolve().parents[1]


def copy_repository(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def run(command, cwd, env):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.mark.smoke
def test_smoke_profile_runs_from_raw_data_to_book(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_repository(repo)
    params_path = repo / "params.yaml"
    text = params_path.read_text()
    assert "profile: default" in text
    params_path.write_text(text.replace("profile: default", "profile: smoke", 1))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        run(command, repo, env)

    reads = tmp_path / "params_read"  # each command notes the params.yaml keys it reads
    run(["make", "repro", f"VENV={sys.prefix}", "ENV_TARGET="], repo,
        {**env, "CIDERLAB_PARAMS_READ": str(reads)})

    assert (repo / "data/raw/snid_sage-0.9.0-py3-none-any.whl").exists()
    html = repo / "book/_build/html"
    assert (html / "index.html").exists()
    classification_page = (html / "notebooks/classification.html").read_text()
    assert "Confusion matrix" in classification_page and "<img" in classification_page
    assert "Objects and spectra per class and split" in (html / "notebooks/data.html").read_text()
    assert (html / "_static/mathjax/tex-chtml.js").exists()  # math renders offline
    own_page = (html / "notebooks/own_data.html").read_text()
    assert "A catalogue run" in own_page and "answer: " in own_page  # classify-alerts' text
    catalogue = json.loads((repo / "results/catalogue_cv/metrics.json").read_text())
    assert list(catalogue["starts"]) == ["template-trained, not tuned", "from scratch",
                                         "fine-tuned"]
    assert catalogue["n_spectra"] + catalogue["n_skipped"] == len(
        pd.read_csv(repo / "real_spectra/truth.csv"))

    metrics = json.loads((repo / "results/evaluate/metrics.json").read_text())
    assert metrics["classes"]
    for key in ("accuracy", "macro_f1", "top3_accuracy"):
        assert math.isfinite(metrics[key]), key
    smoke = yaml.safe_load(params_path.read_text())["profiles"]["smoke"]
    assert metrics["n_spectra"] > 0
    assert max(sum(row) for row in metrics["confusion_matrix"]) <= (
        smoke["split"]["max_objects_per_class"] * smoke["realise"]["max_spectra_per_object"]
        * smoke["realise"]["n_realisations"])
    # Better than a model that always answers the most common class: its macro-F1 over the
    # headline classes is its F1 on that class over their number.
    support = [v["support"] for v in metrics["per_class"].values()]
    assert list(metrics["per_class"]) == metrics["headline_classes"]
    majority_f1 = 2 * max(support) / (max(support) + sum(support)) / len(support)
    assert metrics["macro_f1"] > majority_f1 + 0.05, (metrics["macro_f1"], majority_f1)

    # The redshift model and the end-to-end and narrow-coverage runs produce real scores.
    assert math.isfinite(metrics["redshift"]["rms"]) and metrics["redshift"]["rms"] < 0.2
    for scenario in ("end_to_end", "narrow_coverage"):
        assert metrics[scenario]["n_spectra"] == metrics["n_spectra"]
        assert math.isfinite(metrics[scenario]["macro_f1"]), scenario
    # Cross-validation: every scored object is a test object exactly once, over every fold.
    cv = metrics["cross_validation"]
    assert cv["n_folds"] == smoke["split"]["n_folds"]
    for key in ("macro_f1", "accuracy", "ia_vs_non_ia_accuracy", "redshift_rms"):
        assert math.isfinite(cv[key]["mean"]) and len(cv[key]["values"]) == cv["n_folds"], key
    predictions = pd.read_csv(repo / "results/evaluate/cross_validation_predictions.csv")
    split = pd.read_csv(repo / "results/split/split.csv")
    assert set(predictions["object_id"]) == set(split["object_id"])
    assert (predictions.groupby("object_id")["fold"].nunique() == 1).all()
    assert not predictions.duplicated(["template", "epoch", "realisation"]).any()
    assert sum(cv["pooled"]["n_objects"].values()) + sum(
        v["n_objects"] for v in cv["separate"].values()) == len(split)

    # A checkpoint alone can prepare a real spectrum: it carries the preprocessing it was
    # trained with, which is the resolved params.yaml's.
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.params import load_params
    from ciderlab.spectra.preprocess import PreprocessConfig

    for path in ("results/train_classifier/classifier.pt", "results/train_redshift/redshift.pt"):
        _, described = load_checkpoint(repo / path)
        assert PreprocessConfig.from_dict(described["preprocess"]) == \
            PreprocessConfig.from_resolved(load_params(params_path)), path

    # The paper's three seeds, the preprocessing comparison and the worked ablation.
    seeds = metrics["seeds"]
    assert seeds["seeds"] == [42, 777, 888] and math.isfinite(seeds["macro_f1"]["std"])
    assert seeds["macro_f1"]["values"][0] == metrics["macro_f1"]  # the first seed is the model
    options = json.loads((repo / "results/compare_preprocessing/metrics.json").read_text())
    assert set(options["options"]) == set(smoke.get("compare_preprocessing", {}).get(
        "options", yaml.safe_load(params_path.read_text())["compare_preprocessing"]["options"]))
    ablation = json.loads((repo / "results/ablation/metrics.json").read_text())
    assert ablation["reference"]["macro_f1"] == cv["macro_f1"]  # the reference is cross_validate's
    for variant in ablation["variants"].values():
        assert len(variant["difference"]["macro_f1"]["values"]) == cv["n_folds"]
    baselines = json.loads((repo / "results/baselines/metrics.json").read_text())
    assert baselines
    assert "cross-validated" in classification_page and "Over seeds" not in classification_page
    assert "three seeds on one split" in classification_page
    assert "Continuum removal, chosen by measurement" in (
        html / "notebooks/preprocessing.html").read_text()
    assert "The variants in" in (html / "notebooks/ablation.html").read_text()
    reconstructed = (html / "notebooks/reconstructed.html").read_text()
    assert "The paper beside us" in reconstructed and "validation" in reconstructed
    reliability = json.loads((repo / "results/reliability/metrics.json").read_text())
    assert 0 <= reliability["calibration"]["ece_after"] <= 1
    assert 0 <= reliability["none_of_these"]["auroc"] <= 1
    assert reliability["calibration"]["method"] in ("temperature", "top-label isotonic")
    assert "outlier_detector" in reliability["none_of_these"]["by_score"]
    assert 0 <= reliability["redshift_interval"]["coverage"] <= 1
    real = json.loads((repo / "results/real_spectra/metrics.json").read_text())
    assert real["n_files"] == smoke["real_spectra"]["max_files"] and real["n_unreadable"] == 0
    assert 0 <= real["realism_auc"]["embedding"]["auc_mean"] <= 1
    for option in options["options"].values():
        assert 0 <= option["embedding_realism_auc"] <= 1
    assert set(real["snid_sage"]) == {"catalogue", "predicted"}
    assert set(real["region_mismatch_obs"]) == {"blue end", "O2 B", "O2 A", "5000-6500"}
    assert "SpectraNet and SNID-SAGE on the same files" in (
        html / "notebooks/real_spectra.html").read_text()
    assert "none of the trained classes" in (html / "notebooks/reliability.html").read_text()

    # Every stage wrote every output and metrics file dvc.yaml declares for it.
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        body = stage.get("do", stage)
        for item in stage.get("foreach", [None]):
            for entry in body.get("outs", []) + body.get("metrics", []):
                path = (next(iter(entry)) if isinstance(entry, dict) else entry)
                path = path.replace("${item}", str(item))
                assert (repo / path).exists(), f"stage {name}: {path} missing"

    # Each stage's params in dvc.yaml are exactly the keys its command read (profile and
    # profiles too, since the active profile can change any of them), so a switch reruns only
    # the stages that read it.
    for name, stage in stages.items():
        if not str(stage.get("cmd", "")).startswith("ciderlab "):
            continue
        read = json.loads((reads / f"{name}.json").read_text())
        declared = [p for p in stage.get("params", []) if p not in ("profile", "profiles")]
        assert sorted(declared) == read, f"stage {name}: dvc.yaml params {declared}, read {read}"
        assert {"profile", "profiles"} <= set(stage.get("params", [])), name

    # Every model the pipeline trains is a checkpoint that loads as its own class. A
    # cross-validation fold whose run is the main model's reuses it (one file fewer).
    from ciderlab.applecider.fusion import FusionClassifier
    from ciderlab.applecider.galspecnet import GalSpecNet
    from ciderlab.spectranet.model import SpectraNet

    multimodal = json.loads((repo / "results/train_multimodal/metrics.json").read_text())
    trained_modes = [m for m in multimodal["modes"] if m not in multimodal["baselines"]]
    n_folds, n_alert_folds = cv["n_folds"], multimodal["n_folds"]
    expected = {"results/cross_validate_classifier/models": (SpectraNet, n_folds - 1),
                "results/cross_validate_redshift/models": (SpectraNet, n_folds - 1),
                "results/ablation/models": (SpectraNet, n_folds * len(ablation["variants"])),
                "results/train_galspecnet/models": (GalSpecNet, n_folds),
                "results/compare_preprocessing/models": (SpectraNet, len(options["options"])),
                "results/train_multimodal/models": (FusionClassifier,
                                                    n_alert_folds * len(trained_modes))}
    for folder, (model_class, count) in expected.items():
        files = sorted((repo / folder).rglob("*.pt"))
        assert len(files) == count, (folder, [f.name for f in files])
        for path in files:
            model, described = load_checkpoint(path, model_class=model_class)
            assert described["classes"] and not model.training, path
    assert n_alert_folds == smoke["train_multimodal"]["n_folds"] and trained_modes
    for mode in trained_modes:
        assert math.isfinite(multimodal["modes"][mode]["macro_f1"]["mean"]), mode
    galspecnet = json.loads((repo / "results/train_galspecnet/metrics.json").read_text())
    assert galspecnet["n_folds"] == n_folds and math.isfinite(galspecnet["macro_f1"]["mean"])

    # Everything is now recorded: a second run does nothing and the workspace is clean.
    again = run(["dvc", "repro"], repo, env)
    assert "Running stage" not in again
    status = run(["dvc", "status"], repo, env)
    assert "up to date" in status

    # The README's one-switch ablation: a variant added to params.yaml reruns only the ablation,
    # its page, the page that tabulates all of params.yaml ("What is reconstructed") and the
    # book, and trains only the new variant (the old one's folds are reused).
    raw = yaml.safe_load(params_path.read_text())
    old_variant = next(iter(raw["ablation"]["variants"]))
    old_models = {p.relative_to(repo): p.read_bytes()
                  for p in (repo / "results/ablation/models").rglob("*.pt")}
    raw["ablation"]["variants"]["EMA off"] = {"train_classifier": {"use_ema": False}}
    params_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    listed = set(re.findall(r"^(\w+):", run(["dvc", "status"], repo, env), re.M))
    assert listed == {"ablation", "page_reconstructed"}, listed
    added = run(["dvc", "repro"], repo, env)
    ran = re.findall(r"Running stage '(\w+)'", added)
    assert sorted(ran) == ["ablation", "book", "page_ablation", "page_reconstructed"], ran
    assert f"'{old_variant}': " in added and f"(0 trained, {n_folds} reused" in added
    assert f"'EMA off': " in added and f"({n_folds} trained, 0 reused" in added
    for path, content in old_models.items():
        assert (repo / path).read_bytes() == content, path
    assert len(list((repo / "results/ablation/models/ema-off").glob("fold_*.pt"))) == n_folds
    page = (repo / "book/notebooks/ablation.ipynb").read_text()
    assert "EMA off" in page

    # Users' own alerts (tests/own_alerts.py): classify-alerts on the snapshot's real packets,
    # the fused model's ONNX export on them, and a pulled night labelled by a BTS table through
    # the alerts and train_multimodal stages' commands.
    check_own_alerts(repo, env)
    # Users' own labelled spectra (tests/own_spectra.py): a loopback SkyPortal serving the real
    # spectra, `pull fritz --catalogue`, and the catalogue_cv stage's command on that catalogue.
    check_own_spectra(repo, env)
