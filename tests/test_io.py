import json

import numpy as np
import pandas as pd
import pytest

from ciderlab.io import (SpectraSet, atomic_path, load_json, load_spectra, load_table, save_json,
                         save_spectra, save_table)


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.json"
    save_json({"a": 1}, target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert load_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_json_writes_nan_as_null(tmp_path):
    save_json({"x": float("nan"), "y": [np.float32(1.5), np.inf]}, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == {"x": None, "y": [1.5, None]}


def test_empty_table_is_a_clear_error(tmp_path):
    save_table(pd.DataFrame({"a": []}), tmp_path / "t.csv")
    with pytest.raises(ValueError, match="empty"):
        load_table(tmp_path / "t.csv")


def test_spectra_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"object_id": ["a", "b"], "label": ["SN Ia", "TDE"], "redshift": [0.1, 0.2]})
    spectra = SpectraSet(np.arange(8.0), np.arange(8.0), rng.normal(size=(2, 8)).astype("f4"),
                         rng.normal(size=(2, 8)).astype("f4"), np.ones((2, 8), bool),
                         np.zeros((2, 8), bool), meta)
    save_spectra(spectra, tmp_path / "s.h5")
    back = load_spectra(tmp_path / "s.h5")
    assert np.array_equal(back.flux_obs, spectra.flux_obs)
    assert back.meta["label"].tolist() == ["SN Ia", "TDE"]
    assert back.meta["redshift"].tolist() == [0.1, 0.2]
    assert back.select([1]).meta["object_id"].tolist() == ["b"]
