"""Which params.yaml keys a command reads (ciderlab.params_read), the record dvc.yaml's params
lists are checked against."""

import copy

import pytest

from ciderlab import params_read
from ciderlab.params_read import Recorded, names_read
from ciderlab.workers import fork_map


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch):
    monkeypatch.setattr(params_read, "_READ", set())
    monkeypatch.setattr(params_read, "_SECTIONS", {})


PARAMS = {"device": "cpu", "train": {"lr": 0.1, "seed": 1, "model": {"width": 4}},
          "grid": {"n_bins": 8, "min": 1.0}}


def test_a_key_read_is_named_and_a_section_fetched_but_unread_is_not():
    params = Recorded(PARAMS, "")
    section = params["train"]
    assert section["lr"] == 0.1 and params["device"] == "cpu"
    params["grid"]  # fetched, nothing read from it
    assert names_read() == ["device", "train.lr"]


def test_reading_a_whole_section_names_the_section():
    params = Recorded(PARAMS, "")
    dict(**params["grid"])  # unpacking reads every key
    copy.deepcopy(params["train"]["model"])
    assert names_read() == ["grid", "train.model"]


def test_every_key_read_one_by_one_folds_into_the_section_and_a_missing_key_names_it():
    params = Recorded(PARAMS, "")
    grid = params["grid"]
    grid["n_bins"], grid["min"]
    assert names_read() == ["grid"]
    assert params["train"].get("patience") is None  # absent: only the section can say so
    assert names_read() == ["grid", "train"]


def test_what_a_forked_worker_reads_is_the_callers_too():
    params = Recorded(PARAMS, "")

    def read(shared, key):
        return shared["train"][key]

    assert list(fork_map(read, params, ["lr", "seed"], workers=2)) == [0.1, 1]
    assert names_read() == ["train.lr", "train.seed"]
