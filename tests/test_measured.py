"""The README's measured table is what the tracked snapshot and timing records say."""

import json
import shutil
from pathlib import Path

import pytest

from ciderlab import measured
from ciderlab.errors import InputError
from ciderlab.io import load_json, load_records

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_the_records():
    """Fails when anyone edits a number in the README's table by hand, or a record without
    rewriting the table (`ciderlab measured --write`)."""
    snapshot = load_json(ROOT / measured.SNAPSHOT)
    timings = load_records(ROOT / measured.TIMINGS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert measured.readme_block(readme) == measured.render(snapshot, timings)
    assert measured.is_current(ROOT)


def copy_of_checkout(tmp_path: Path) -> Path:
    for name in ("README.md", str(measured.SNAPSHOT), str(measured.TIMINGS)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_changed_record_makes_the_table_stale(tmp_path):
    root = copy_of_checkout(tmp_path)
    snapshot = load_json(root / measured.SNAPSHOT)
    snapshot["cv"]["macro_f1"]["mean"] += 0.01
    (root / measured.SNAPSHOT).write_text(json.dumps(snapshot))
    assert not measured.is_current(root)


def test_write_snapshots_results_and_rewrites_only_the_block(tmp_path):
    """A results tree made of the snapshot's own sections (as the stages write them): the
    rewritten table carries its numbers, the README around the block is untouched."""
    root = copy_of_checkout(tmp_path / "checkout")
    snapshot = load_json(root / measured.SNAPSHOT)
    snapshot["galspecnet"]["macro_f1"]["mean"] = 0.4321
    results = tmp_path / "results"
    files: dict[str, dict] = {}
    for name, (path, key) in measured.SOURCES.items():
        tree = files.setdefault(path, {})
        if key:
            tree[key] = snapshot[name]
        else:
            tree.update(snapshot[name])
    for path, tree in files.items():
        (results / path).parent.mkdir(parents=True, exist_ok=True)
        (results / path).write_text(json.dumps(tree))
    before = (root / "README.md").read_text(encoding="utf-8")
    measured.write(root, results, "abc1234")
    after = (root / "README.md").read_text(encoding="utf-8")
    assert "macro-F1 0.432 ± " in measured.readme_block(after)
    assert "at commit abc1234" in after
    outside = before.split(measured.BEGIN)[0], before.split(measured.END)[1]
    assert after.split(measured.BEGIN)[0] == outside[0]
    assert after.split(measured.END)[1] == outside[1]
    assert measured.is_current(root)


def test_an_incomplete_run_is_refused_by_name(tmp_path):
    (tmp_path / "evaluate").mkdir()
    (tmp_path / "evaluate" / "metrics.json").write_text(json.dumps({"cross_validation": {}}))
    with pytest.raises(InputError, match="no 'n_folds'"):
        measured.collect(tmp_path, "x")
    with pytest.raises(InputError, match="train_galspecnet/metrics.json: missing"):
        measured.collect(_only_evaluate(tmp_path), "x")


def _only_evaluate(tmp_path: Path) -> Path:
    """A results tree with a complete evaluate/metrics.json and nothing else."""
    snapshot = load_json(ROOT / measured.SNAPSHOT)
    tree = {key: snapshot[name] for name, (path, key) in measured.SOURCES.items()
            if path == "evaluate/metrics.json"}
    out = tmp_path / "only_evaluate"
    (out / "evaluate").mkdir(parents=True)
    (out / "evaluate" / "metrics.json").write_text(json.dumps(tree))
    return out


def test_a_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="no measured block"):
        measured.replace_block("# a README\n", "table")
