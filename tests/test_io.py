import json

import numpy as np
import pandas as pd
import pytest

from ciderlab.errors import InputError
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


def small_spectra(n=5, bins=8):
    rng = np.random.default_rng(1)
    meta = pd.DataFrame({"object_id": [f"o{i}" for i in range(n)], "redshift": rng.uniform(size=n)})
    return SpectraSet(np.arange(bins, dtype=float), np.arange(bins, dtype=float),
                      rng.normal(size=(n, bins)).astype("f4"), rng.normal(size=(n, bins)).astype("f4"),
                      rng.uniform(size=(n, bins)) > 0.3, rng.uniform(size=(n, bins)) > 0.6, meta,
                      flux_raw_obs=rng.normal(size=(n, bins)).astype("f4"))


ARRAYS = ("flux_obs", "flux_rest", "covered_obs", "covered_rest", "flux_raw_obs")


def test_lazy_load_maps_the_file_and_equals_the_eager_load(tmp_path):
    save_spectra(small_spectra(), tmp_path / "s.h5")
    eager = load_spectra(tmp_path / "s.h5")
    lazy = load_spectra(tmp_path / "s.h5", lazy=True)
    for name in ARRAYS:
        mapped = getattr(lazy, name)
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable, name
        assert mapped.dtype == getattr(eager, name).dtype, name
        assert np.array_equal(mapped, getattr(eager, name)), name
    pd.testing.assert_frame_equal(lazy.meta, eager.meta)
    # selected rows are read into memory, in the order asked for
    picked = lazy.select([3, 0, 3])
    assert not isinstance(picked.flux_rest, np.memmap)
    assert np.array_equal(picked.flux_rest, eager.flux_rest[[3, 0, 3]])
    assert np.array_equal(picked.covered_obs, eager.covered_obs[[3, 0, 3]])
    assert picked.meta["object_id"].tolist() == ["o3", "o0", "o3"]


def test_lazy_load_of_a_compressed_file_names_the_array_and_the_fix(tmp_path):
    import h5py

    spectra = small_spectra()
    save_spectra(spectra, tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "a") as handle:  # as an older realise wrote it
        del handle["flux_rest"]
        handle.create_dataset("flux_rest", data=spectra.flux_rest, compression="lzf", chunks=True)
    with pytest.raises(InputError, match=r"s\.h5: 'flux_rest' is stored chunked.*re-run"):
        load_spectra(tmp_path / "s.h5", lazy=True)
    assert np.array_equal(load_spectra(tmp_path / "s.h5").flux_rest, spectra.flux_rest)


def test_load_records_reads_one_object_per_line_and_skips_blank_lines(tmp_path):
    from ciderlab.io import load_records

    path = tmp_path / "records.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2, "b": [3]}\n')
    assert load_records(path) == [{"a": 1}, {"a": 2, "b": [3]}]
