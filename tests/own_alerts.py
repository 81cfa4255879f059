"""The smoke test's AppleCiDEr paths for users' own alerts, on the real snapshot's packets in a
repository the smoke profile has just built (tests/test_smoke.py calls ``check_own_alerts``):

* ``ciderlab classify-alerts`` on the snapshot's packets (Parquet, as the sdist holds them) with
  the models ``train_multimodal`` saved, and the ONNX export of the fused model checked against
  torch on those packets;
* a night of those packets served by a loopback ZTF archive (tests/test_ztf_archive.py's server)
  as Avro files, pulled with ``ciderlab pull ztf-alerts``, labelled by a Bright Transient
  Survey-format CSV, turned into alert tables by the ``alerts`` stage's own command and
  cross-validated by ``train_multimodal``'s.
"""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pyarrow.parquet as pq
import yaml

from avro_alerts import night_tarball
from loopback import serving

NIGHT = "20211201"  # the CTAO file's alerts are of 2021-11-30/12-01 (jd 2459541)


def run(command, cwd, env, ok=(0,)) -> str:
    """Run a command; its stdout and stderr, after checking its exit status is in ``ok``."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode in ok, \
        f"{command} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def _stage_argv(repo: Path, stage: str, values: dict) -> list[str]:
    """dvc.yaml's command of ``stage`` with its ``${...}`` filled from ``values``."""
    command = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"][stage]["cmd"]
    for key, value in values.items():
        command = command.replace("${" + key + "}", str(value))
    assert "${" not in command, command
    return shlex.split(command)


def check_own_alerts(repo: Path, env: dict) -> None:
    from ciderlab.applecider.alerts.archive import read_archive_alerts
    from ciderlab.applecider.alerts.packet_files import read_packet_files
    from ciderlab.applecider.alerts.tables import packets_to_tables
    from ciderlab.applecider.ensemble import (ensemble_arrays, ensemble_probabilities,
                                              load_alert_models)
    from ciderlab.applecider.export import run_alert_onnx
    from ciderlab.applecider.inputs import assemble_alerts
    from ciderlab.params import load_params

    params = load_params(repo / "params.yaml")
    tables = read_archive_alerts(repo / params["alerts"]["source"], params["alerts"]["files"])

    # 1. classify-alerts on the snapshot's real packets, the files as Fink wrote them.
    snapshot = repo / "own/snapshot_alerts"
    snapshot.mkdir(parents=True)
    for name, table in tables.items():
        pq.write_table(table, snapshot / name)
    found = read_packet_files([snapshot])
    answers_path = repo / "own/alert_answers.json"
    out = run(["ciderlab", "classify-alerts", "--json", "--out", str(answers_path),
               str(snapshot)], repo, env, ok=(0, 1))
    answers = json.loads(answers_path.read_text())
    assert {a["objectId"] for a in answers} == {p["objectId"] for p in found.packets}
    # the snapshot's only refusals: packets stripped of their history (Fink's CTAO test file)
    assert found.refused and all("no history" in r for r in found.refused), found.refused
    assert f"{len(found.refused)} files or packets were refused" in out
    models = load_alert_models(repo / "results/train_multimodal/models")
    for answer in answers:
        assert set(answer["modes"]) == set(models.ensembles), answer
        assert answer["answer"] in models.classes and 0 < answer["probability"] <= 1

    # The fused model in ONNX gives the same probabilities on these real packets.
    said = run(["ciderlab", "export", "--onnx", "--alerts", "--out", "own/export"], repo, env)
    assert "ONNX Runtime vs torch" in said
    sidecar = json.loads((repo / "own/export/applecider_ztf.json").read_text())
    assert sidecar["classes"] == models.classes and sidecar["check"]["max_abs_diff"] < 1e-5
    assert sidecar["folds"] == list(range(len(models.ensembles["ztf"].models)))

    proto = onnx.load(repo / "own/export/applecider_ztf.onnx")
    inputs = assemble_alerts(packets_to_tables(found.packets), models.classes, models.max_events,
                             models.include_limits, labelled_only=False)
    arrays = ensemble_arrays(inputs)
    torch_proba = ensemble_probabilities(models.ensembles["ztf"], arrays)
    np.testing.assert_allclose(run_alert_onnx(proto, arrays), torch_proba, atol=1e-5)

    # 2. A night of these packets from a loopback ZTF archive, labelled by a BTS table.
    from test_ztf_archive import NAME, ArchiveState, _handler

    body, packets = night_tarball(tables)
    state = ArchiveState(files={NAME.replace("20181129", NIGHT): body})
    night = repo / "own/ztf_night"
    with serving(_handler(state)) as url:
        run(["ciderlab", "pull", "ztf-alerts", "--night", NIGHT, "--url", f"{url}/alerts/public",
             "--cache-dir", str(repo / "own/cache"), "--out", str(night)], repo, env)
    # The BTS table: the objects the SIMBAD cross-match types unambiguously for the paper's
    # groups (AGN-like -> AGN, CV/nova -> CV); the others unclassified ("-"), as BTS writes.
    from ciderlab.data.labels import alert_class_of_simbad

    simbad = {}
    for table in tables.values():
        if "cdsxmatch" in table.column_names:
            simbad.update(zip(table.column("objectId").to_pylist(),
                              table.column("cdsxmatch").to_pylist()))
    bts_type = {"AGN-like": "AGN", "CV/nova": "CV"}
    positions = {p["objectId"]: p["candidate"] for p in packets}
    with open(night / "bts.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ZTFID", "IAUID", "RA", "Dec", "peakt", "peakfilt", "peakmag", "peakabs",
                         "duration", "rise", "fade", "type", "redshift", "b", "A_V"])
        for object_id, candidate in sorted(positions.items()):
            kind = bts_type.get(alert_class_of_simbad(simbad.get(object_id)), "-")
            writer.writerow([object_id, "-", candidate["ra"], candidate["dec"], *["-"] * 7, kind,
                             "-", "-", "-"])
    own_params = repo / "own/params.yaml"
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["alerts"].update(source=str(night), labels=str(night / "bts.csv"),
                         min_objects_per_class=5)  # the snapshot holds 6 CV objects
    own_params.write_text(yaml.safe_dump(raw, sort_keys=False))
    values = {"alerts.source": night, "alerts.labels": night / "bts.csv"}
    alerts_argv = _stage_argv(repo, "alerts", values)
    alerts_argv = [*alerts_argv[:2], "--params", str(own_params), *alerts_argv[2:]]
    alerts_argv[alerts_argv.index("--out") + 1] = "own/alerts"
    said = run(alerts_argv, repo, env)
    assert "labels from" in said and "bts.csv" in said
    summary = json.loads((repo / "own/alerts/summary.json").read_text())
    assert summary["trained_classes"] == ["AGN", "CV"], summary
    train_argv = _stage_argv(repo, "train_multimodal", {})
    train_argv[train_argv.index("--alerts") + 1] = "own/alerts"
    train_argv[train_argv.index("--out") + 1] = "own/train_multimodal"
    run([*train_argv[:2], "--params", str(own_params), *train_argv[2:]], repo, env)
    metrics = json.loads((repo / "own/train_multimodal/metrics.json").read_text())
    assert metrics["classes"] == ["CV", "AGN"], metrics.get("classes")  # PAPER_ALERT_GROUPS order
    for mode, scores in metrics["modes"].items():
        assert np.isfinite(scores["macro_f1"]["mean"]), mode
    assert len(list((repo / "own/train_multimodal/models").glob("ztf_fold*.pt"))) == \
        load_params(own_params)["train_multimodal"]["n_folds"]
