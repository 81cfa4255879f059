"""The smoke test's path for users' own labelled spectra, in a repository the smoke profile has
just built (tests/test_smoke.py calls ``check_own_spectra``): a loopback SkyPortal (the Fritz
server of tests/test_fritz.py) serves the real spectra of real_spectra/ as sources with their
published classification and redshift; ``ciderlab pull fritz --catalogue`` builds a catalogue
from it, and the ``catalogue_cv`` stage's own command trains, cross-validates and scores the
classifier on that catalogue, from scratch and fine-tuned."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import yaml

from loopback import serving
from own_alerts import run


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
