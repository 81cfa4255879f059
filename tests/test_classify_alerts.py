"""ciderlab classify-alerts and the ONNX export of the fused alert model: the saved fold models
rebuilt into one ensemble per mode, checked against the training code's own predictions, on
packets written as ZTF writes them (Avro containers, a nightly tarball); bad packets refused
with their reason while the others are answered.

The real snapshot's packets go through the same command, and the fused model's ONNX export is
checked against torch on them, in the smoke test (tests/own_alerts.py)."""

from __future__ import annotations

import io
import json

import fastavro
import numpy as np
import pytest

from ciderlab.applecider.alerts.metadata import MetadataScaler
from ciderlab.applecider.alerts.packet_files import packet_problem, read_packet_files
from ciderlab.applecider.alerts.tables import packets_to_tables
from ciderlab.applecider.ensemble import (ensemble_arrays, ensemble_probabilities,
                                          load_alert_models)
from ciderlab.applecider.inputs import EventScaler, assemble_alerts, fold_tensors, take
from ciderlab.applecider.training import predict, train_multimodal
from ciderlab.cli import main
from test_multimodal_training import CLASSES, packets_of, tiny_config
from test_ztf_archive import SCHEMA, make_packet, make_tarball


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Tiny photo/meta/ztf models over 2 folds on alert tables with stamps; their folder."""
    rng = np.random.default_rng(1)
    packets = [p for label in CLASSES for i in range(10)
               for p in packets_of(f"ZTF{label[:3]}{i:03d}", label, 6, rng)]
    tables = packets_to_tables(packets)
    tables.cutouts = rng.normal(size=(len(tables.metadata), 63, 63, 3)).astype(np.float32)
    tables.cutout_index = tables.metadata[["objectId", "candid"]].copy()
    folder = tmp_path_factory.mktemp("models")
    config = tiny_config(modes=("photo", "meta", "ztf"), n_folds=2, epochs=2, early_days=())
    train_multimodal(tables, config, min_objects_per_class=5, progress=False,
                     models_dir=folder, stamps={"stamp_size": 63, "stamp_normalisation": "l2"})
    return tables, folder


def test_each_fold_in_the_ensemble_scales_and_answers_as_training_did(trained):
    tables, folder = trained
    models = load_alert_models(folder)
    assert list(models.ensembles) == ["photo", "meta", "ztf"]
    inputs = assemble_alerts(tables, models.classes, models.max_events, models.include_limits)
    arrays = ensemble_arrays(inputs)
    for mode, ensemble in models.ensembles.items():
        assert len(ensemble.models) == 2
        per_fold = []
        for model, payload in zip(ensemble.models, ensemble.payloads):
            scalers = (EventScaler(np.array(payload["inputs"]["event_scaler"]["mean"], np.float32),
                                   np.array(payload["inputs"]["event_scaler"]["std"], np.float32)),
                       MetadataScaler.from_dict(payload["inputs"]["metadata_scaler"]))
            batch, _ = fold_tensors(inputs, None, ensemble.towers, scalers)
            proba, _ = predict(model, take(batch, slice(None)))  # the training code's answer
            per_fold.append(proba)
        np.testing.assert_allclose(ensemble_probabilities(ensemble, arrays),
                                   np.mean(per_fold, axis=0), atol=1e-6)


def _avro(packets) -> bytes:
    buffer = io.BytesIO()
    fastavro.writer(buffer, SCHEMA, packets)
    return buffer.getvalue()


def _packets():
    rng = np.random.default_rng(7)
    return [make_packet(obj, 700000000000000000 + i, 2458451.7 + i, rng)
            for i, obj in enumerate(["ZTF18aaaaaaa", "ZTF18aaaaaab", "ZTF18aaaaaab",
                                     "ZTF18aaaaaac"])]


def test_classify_alerts_answers_per_object_from_avro_and_a_tarball(trained, tmp_path, capsys):
    _, folder = trained
    packets = _packets()
    (tmp_path / "night.tar.gz").write_bytes(make_tarball(packets[:2]))
    (tmp_path / "more.avro").write_bytes(_avro(packets[2:]))  # one file, two packets
    out = tmp_path / "answers.json"
    assert main(["classify-alerts", "--models", str(folder), "--json", "--out", str(out),
                 str(tmp_path / "night.tar.gz"), str(tmp_path / "more.avro")]) == 0
    answers = {a["objectId"]: a for a in json.loads(out.read_text())}
    assert sorted(answers) == ["ZTF18aaaaaaa", "ZTF18aaaaaab", "ZTF18aaaaaac"]
    two = answers["ZTF18aaaaaab"]
    assert two["n_alerts"] == 2 and two["candid"] == packets[2]["candid"]  # its latest alert
    for answer in answers.values():
        assert set(answer["modes"]) == {"photo", "meta", "ztf"}
        for probabilities in answer["modes"].values():
            assert set(probabilities) == set(CLASSES)
            assert abs(sum(probabilities.values()) - 1) < 1e-5
        assert answer["answer_mode"] == "ztf"
        assert answer["probability"] == max(answer["modes"]["ztf"].values())
    capsys.readouterr()
    assert main(["classify-alerts", "--models", str(folder), str(tmp_path)]) == 0  # a folder
    text = capsys.readouterr().out
    assert text.count("answer: ") == 3 and "ztf:" in text and "ZTF18aaaaaab  candid" in text


def test_bad_packets_are_refused_with_their_reason_and_the_others_answered(trained, tmp_path,
                                                                          capsys):
    _, folder = trained
    good, no_cutout, no_history, future = _packets()
    no_cutout["cutoutDifference"] = None
    no_history["prv_candidates"], no_history["candidate"]["ndethist"] = None, 3
    future["schemavsn"] = "9.0"
    (tmp_path / "good.avro").write_bytes(_avro([good]))
    (tmp_path / "bad.avro").write_bytes(_avro([no_cutout, no_history, future]))
    whole = _avro([make_packet("ZTF18zzzzzzz", 7, 2458450.5, np.random.default_rng(0))])
    (tmp_path / "cut.avro").write_bytes(whole[: len(whole) // 2])  # a download cut short
    (tmp_path / "notes.txt").write_text("not an alert")
    status = main(["classify-alerts", "--models", str(folder), "--csv",
                   *(str(tmp_path / n) for n in ("good.avro", "bad.avro", "cut.avro",
                                                 "notes.txt"))])
    captured = capsys.readouterr()
    assert status == 1
    rows = captured.out.strip().splitlines()
    assert len(rows) == 2 and rows[1].startswith("ZTF18aaaaaaa,")  # header + the good one
    assert "ztf_p_star" in rows[0]
    err = captured.err
    assert "no cutoutDifference" in err
    assert "no history (prv_candidates is missing) although the alert counts 2 earlier" in err
    assert "schema version '9.0'" in err
    assert "cut.avro: not a readable Avro alert file" in err
    assert "notes.txt: not an alert file" in err
    assert "5 files or packets were refused" in err


def test_a_packet_without_the_ztf_layout_or_a_bad_stamp_is_named():
    packet = _packets()[0]
    assert "no candidate" in packet_problem({**packet, "candidate": None})
    broken = {**packet, "cutoutScience": {"fileName": "sci.fits.gz", "stampData": b"\x1f\x8b!"}}
    assert "stampData is not a (gzip-compressed) FITS image" in packet_problem(broken)
    assert packet_problem(packet) is None
    found = read_packet_files(["/nonexistent/alerts"])
    assert found.packets == [] and "no such file or folder" in found.refused[0]


def test_no_models_folder_says_which_stage_writes_it(tmp_path, capsys):
    assert main(["classify-alerts", "--models", str(tmp_path / "none"), str(tmp_path)]) == 1
    assert "dvc repro train_multimodal" in capsys.readouterr().err
