"""The smoke test's path for users' own labelled spectra, in a repository the smoke profile has
just built (tests/test_smoke.py calls ``check_own_spectra``): a loopback SkyPortal (the Fritz
server of tests/test_fritz.py) serves the real spectra of real_spectra/ as sources with their
published classification and redshift; ``ciderlab pull fritz --catalogue`` builds a catalogue
from it; with that folder as params.yaml's spectra source, the main pipeline's own commands (split
to evaluate, dvc.yaml's command lines writing to own/pipeline instead of results/) train,
cross-validate and evaluate on it; and the ``catalogue_cv`` stage's own command trains,
cross-validates and scores the classifier on that catalogue, from scratch and fine-tuned."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import yaml

from loopback import serving
from own_alerts import _stage_argv, run

# The SpectraNet stages from the split to the evaluation, in dvc.yaml's order.
PIPELINE = ("split", "realise", "train_classifier", "train_redshift",
            "cross_validate_classifier", "cross_validate_redshift", "evaluate")


def check_own_spectra(repo: Path, env: dict) -> None:
    from test_fritz import TOKEN, FritzState, _handler, human, real_spectrum_records

    truth = pd.read_csv(repo / "real_spectra/truth.csv")
    names = {name: f"OBJ{k:03d}" for k, name in enumerate(dict.fromkeys(truth["object"]))}
    sources = {}
    for number, (name, rows) in enumerate(truth.groupby("object", sort=False)):
        obj_id = names[name]
        first = rows.iloc[0]
        sources[obj_id] = {
            "source": {"id": obj_id, "ra": 10.0, "dec": 20.0, "redshift": float(first["redshift"])},
            "spectra": {"obj_id": obj_id, "spectra": real_spectrum_records(
                obj_id, list(rows["file"]), first_id=100 * (number + 1))},
            "classifications": [human(first["class"], 1.0, "2024-01-01T00:00:00")],
            "photometry": []}
    state = FritzState(sources=sources)
    out = repo / "own/fritz"
    ids = repo / "own/fritz_ids.txt"
    ids.parent.mkdir(parents=True, exist_ok=True)
    ids.write_text("\n".join(sources) + "\n")
    with serving(_handler(state)) as url:
        said = run(["ciderlab", "pull", "fritz", "--catalogue", "--objects", str(ids), "--out",
                    str(out), "--url", url], repo, {**env, "FRITZ_TOKEN": TOKEN})
        state.release.set()
    assert f"catalogue of {len(truth)} spectra of {len(sources)} objects" in said, said
    assert TOKEN not in said

    check_pipeline_on_catalogue(repo, env, out, truth)

    command = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]["catalogue_cv"]["cmd"]
    argv = shlex.split(command)
    argv[argv.index("--catalogue") + 1] = str(out / "catalogue.csv")
    argv[argv.index("--out") + 1] = "own/catalogue_cv"
    said = run(argv, repo, env)
    assert "catalogue_cv: " in said
    metrics = json.loads((repo / "own/catalogue_cv/metrics.json").read_text())
    reference = json.loads((repo / "results/catalogue_cv/metrics.json").read_text())
    # the same spectra, classes and objects as the real-spectra set read directly
    assert metrics["classes"] == reference["classes"]
    assert (metrics["n_spectra"], metrics["n_objects"]) == \
        (reference["n_spectra"], reference["n_objects"])
    predictions = pd.read_csv(repo / "own/catalogue_cv/predictions.csv")
    for start, group in predictions.groupby("start"):
        assert len(group) == metrics["n_spectra"] and group["file"].is_unique, start
    assert sorted(p.name for p in (repo / "own/catalogue_cv/models").glob("fine-tuned_*.pt")) \
        == [f"fine-tuned_fold{k}.pt" for k in range(metrics["n_folds"])]


def check_pipeline_on_catalogue(repo: Path, env: dict, folder: Path, truth: pd.DataFrame) -> None:
    """The main pipeline's commands, unchanged but for their results folder, on ``folder``."""
    own_params = repo / "own/catalogue_params.yaml"
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["spectra"]["source"] = str(folder)
    own_params.write_text(yaml.safe_dump(raw, sort_keys=False))
    said = {}
    for stage in PIPELINE:
        argv = [a.replace("results/", "own/pipeline/", 1) if a.startswith("results/") else a
                for a in _stage_argv(repo, stage, {"spectra.source": folder})]
        said[stage] = run([*argv[:2], "--params", str(own_params), *argv[2:]], repo, env)
    assert f"of the catalogue {folder / 'catalogue.csv'}" in said["split"], said["split"]
    n_variants = raw["profiles"]["smoke"]["augment"]["n_variants"]
    assert f"{n_variants} variants of each of" in said["realise"], said["realise"]
    classes = json.loads((repo / "own/pipeline/split/classes.json").read_text())["classes"]
    meta = pd.read_csv(repo / "own/pipeline/realise/meta.csv")
    assert set(meta["template"]) <= set(pd.read_csv(folder / "catalogue.csv")["file"])
    metrics = json.loads((repo / "own/pipeline/evaluate/metrics.json").read_text())
    cv = pd.read_csv(repo / "own/pipeline/cross_validate_classifier/predictions.csv")
    # every catalogue spectrum of a trained class tested once, as observed, over the folds
    assert len(cv) == len(meta[meta["realisation"] == 0]) and set(cv["fold"]) == \
        set(meta["fold"]), (len(cv), len(meta))
    assert sorted(classes) == sorted(set(meta["label"]))
    assert metrics, "evaluate wrote no metrics"
