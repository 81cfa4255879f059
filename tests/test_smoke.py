"""The real pipeline, end to end, on the smoke profile: raw data pull -> dvc repro -> book.

Runs `make repro` (the README's main command minus the environment, which this test already
runs in) in a temporary copy of the repository, on the real SNID-SAGE templates.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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

    run(["make", "repro", f"VENV={sys.prefix}", "ENV_TARGET="], repo, env)

    assert (repo / "data/raw/snid_sage-0.9.0-py3-none-any.whl").exists()
    html = repo / "book/_build/html"
    assert (html / "index.html").exists()
    classification_page = (html / "notebooks/classification.html").read_text()
    assert "Confusion matrix" in classification_page and "<img" in classification_page
    assert "Objects and spectra per class and split" in (html / "notebooks/data.html").read_text()
    assert (html / "_static/mathjax/tex-chtml.js").exists()  # math renders offline

    metrics = json.loads((repo / "results/evaluate/metrics.json").read_text())
    n_classes = len(metrics["classes"])
    for key in ("accuracy", "macro_f1", "top3_accuracy"):
        assert math.isfinite(metrics[key]), key
    assert metrics["accuracy"] > 1.0 / n_classes, "no better than chance"
    smoke = yaml.safe_load(params_path.read_text())["profiles"]["smoke"]
    assert metrics["n_spectra"] > 0
    assert max(sum(row) for row in metrics["confusion_matrix"]) <= (
        smoke["split"]["max_objects_per_class"] * smoke["realise"]["max_spectra_per_object"]
        * smoke["realise"]["n_realisations"])

    # Mean and std over the three seeds, leave-one-out folds and the worked ablation.
    seeds = metrics["seeds"]
    assert seeds["seeds"] == [42, 777, 888] and math.isfinite(seeds["macro_f1"]["std"])
    assert seeds["macro_f1"]["values"][0] == metrics["macro_f1"]  # the first seed is the model
    loo = json.loads((repo / "results/leave_one_out/metrics.json").read_text())["classes"]
    assert set(loo) == {"TDE", "AGN"} and all(v["n_objects"] >= 3 for v in loo.values())
    ablation = json.loads((repo / "results/ablation/metrics.json").read_text())
    assert ablation["reference"]["macro_f1"] == metrics["macro_f1"]
    assert "Leave one object out" in classification_page and "Over seeds" in classification_page
    assert "The worked example" in (html / "notebooks/ablation.html").read_text()

    # Everything is now recorded: a second run does nothing and the workspace is clean.
    again = run(["dvc", "repro"], repo, env)
    assert "Running stage" not in again
    status = run(["dvc", "status"], repo, env)
    assert "up to date" in status
