"""The real-spectra evaluation: truth table, both redshift conditions, scores, SNID inputs."""

import numpy as np
import pandas as pd
import pytest

from ciderlab.spectranet.snid.real_files import object_id_of, write_inputs
from ciderlab.spectranet.snid.snid_sage import _identify_argv
from ciderlab.spectranet.shipped import load_models
from ciderlab.errors import InputError
from ciderlab.spectranet.real_spectra import (load_truth, method_scores, real_set_scores,
                                              score_files)

from test_classify import smoke_checkpoints
from test_readers_real import REAL

TRAINED = ["SN Ia", "SN Ic", "TDE"]


def test_truth_table_of_the_project_lists_only_files_beside_it():
    truth = load_truth(REAL / "truth.csv")
    assert len(truth) >= 23 and truth["file"].is_unique
    assert {"SN Ia", "TDE", "AGN", "CV"} <= set(truth["class"])


def test_truth_table_errors_name_what_is_wrong(tmp_path):
    (tmp_path / "truth.csv").write_text("file,object,class\nx.txt,x,SN Ia\n")
    with pytest.raises(InputError, match="no column"):
        load_truth(tmp_path / "truth.csv")
    (tmp_path / "truth.csv").write_text("file,object,class,redshift\nx.txt,x,SN Ia,0.1\n")
    with pytest.raises(InputError, match="not beside it"):
        load_truth(tmp_path / "truth.csv")


def answers(rows):
    return pd.DataFrame(rows, columns=["file", "class", "redshift", "condition", "predicted",
                                       "redshift_pred", "none_of_these", "error"])


def test_scores_count_trained_classes_only_and_redshifts_of_extragalactic_files():
    table = answers([
        ("a", "SN Ia", 0.05, "predicted", "SN Ia", 0.052, False, ""),
        ("b", "SN Ia", 0.10, "predicted", "SN Ic", 0.40, False, ""),    # catastrophic
        ("c", "TDE", 0.02, "predicted", "TDE", 0.021, False, ""),
        ("n", "CV", 0.0, "predicted", "SN Ic", 0.05, True, ""),        # not trained, flagged
    ])
    scores = method_scores(table, TRAINED, redshift="redshift_pred")
    assert scores["n_typed"] == 3 and scores["n_right"] == 2
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["n_catastrophic"] == 1 and scores["n_redshifts"] == 3
    assert scores["median_dz"] == pytest.approx(0.002 / 1.05)
    assert scores["per_class"]["SN Ia"] == {"n": 2, "right": 1}


def test_headline_scores_on_real_files_use_the_one_macro_f1():
    """Headline [SN Ia, SN Ic, TDE]: a (Ia right), b (Ia called Ic), c (TDE right), an AGN file
    (trained, outside the headline) called SN Ia, a nova (untrained); SNID-SAGE's "no answer"
    counts as wrong."""
    table = answers([
        ("a", "SN Ia", 0.05, "catalogue", "SN Ia", 0.05, False, ""),
        ("b", "SN Ia", 0.10, "catalogue", "SN Ic", 0.10, False, ""),
        ("c", "TDE", 0.02, "catalogue", None, 0.02, False, ""),
        ("q", "AGN", 0.30, "catalogue", "SN Ia", 0.30, False, ""),
        ("n", "CV", 0.0, "catalogue", "SN Ic", 0.0, True, ""),
    ])
    scores = method_scores(table, TRAINED + ["AGN"], headline=TRAINED)
    assert scores["n_typed"] == 4 and scores["n_right"] == 1
    headline = scores["headline"]
    assert headline["n_files"] == 3
    # F1: SN Ia 2/3 (P 1, R 1/2), SN Ic 0 (P 0), TDE 0 (no hit): macro (2/3) / 3
    assert headline["macro_f1"] == pytest.approx(2 / 9)
    # Ia vs non-Ia on a, b, c: a right, b wrong (an Ia called non-Ia), c right
    assert headline["ia_vs_non_ia_accuracy"] == pytest.approx(2 / 3)


def test_real_set_scores_report_both_conditions_for_both_methods_and_the_flags():
    ours = pd.concat([answers([("a", "SN Ia", 0.05, c, "SN Ia", 0.05, False, ""),
                               ("n", "CV", 0.0, c, "SN Ic", 0.01, True, ""),
                               ("u", "TDE", 0.1, c, None, None, None, "unreadable")])
                      for c in ("catalogue", "predicted")], ignore_index=True)
    snid = ours.assign(predicted="other")
    scores = real_set_scores(ours, snid, TRAINED)
    assert scores["n_files"] == 3 and scores["n_unreadable"] == 1
    assert scores["ours"]["catalogue"]["untrained_flagged"] == {"n": True}
    assert scores["ours"]["catalogue"]["accuracy"] == 1.0
    assert scores["snid_sage"]["predicted"]["accuracy"] == 0.0
    assert scores["paired"]["catalogue"] == {"n_files": 1, "ours_only": 1, "snid_sage_only": 0,
                                             "p_value": 1.0}


def test_accuracy_carries_its_interval_and_the_methods_are_compared_file_by_file():
    rows = [(f"f{i}", "SN Ia", 0.05, "catalogue", "SN Ia" if i < 9 else "SN Ic", 0.05, False, "")
            for i in range(12)]
    ours = answers(rows)  # 9 of 12 right: f0-f8
    snid = ours.assign(predicted=["SN Ic"] * 8 + ["SN Ia"] * 4)  # right on f8-f11
    scores = real_set_scores(ours, snid, TRAINED, level=0.95)
    low, high = scores["ours"]["catalogue"]["accuracy_interval"]
    assert low < 0.75 < high and scores["ours"]["catalogue"]["interval_level"] == 0.95
    paired = scores["paired"]["catalogue"]
    assert (paired["ours_only"], paired["snid_sage_only"], paired["n_files"]) == (8, 3, 12)
    assert paired["p_value"] == pytest.approx(0.2265625)  # two-sided binomial, 8 of 11


def test_every_file_is_scored_with_the_catalogue_and_with_its_own_redshift(tmp_path):
    paths = smoke_checkpoints(tmp_path)
    models = load_models(paths["classifier"], paths["redshift"],
                         {"realise": {"redshift_min": 0.005, "redshift_max": 0.2, "snr_min": 10}})
    truth = load_truth(REAL / "truth.csv").head(4)
    table, inputs = score_files(truth, REAL, models)
    assert len(table) == 8 and set(table["condition"]) == {"catalogue", "predicted"}
    given = table[table["condition"] == "catalogue"]
    np.testing.assert_allclose(given["redshift_pred"], truth["redshift"])
    assert (table["error"] == "").all()
    assert inputs["flux_rest"].shape[0] == 4 and list(inputs["files"]) == list(truth["file"])


def test_snid_inputs_are_rescaled_to_unit_median_and_bad_files_reported(tmp_path):
    truth = pd.DataFrame({"file": ["ZTF20aalxlis_20200207_P60_v1.ascii", "missing.txt"]})
    (tmp_path / "folder").mkdir()
    for name in truth["file"][:1]:
        (tmp_path / "folder" / name).write_bytes((REAL / name).read_bytes())
    paths, errors = write_inputs(truth, tmp_path / "folder", tmp_path / "work")
    flux = np.loadtxt(paths[0])[:, 1]
    assert np.median(np.abs(flux)) == pytest.approx(1.0, rel=1e-3)  # not 1e-16: SNID fails there
    assert errors[0] == "" and "no such file" in errors[1]


def test_object_names_map_to_bank_ids_and_forced_redshift_reaches_snid():
    assert object_id_of("SN2016al (PTF15fjg)") == "2016al"
    assert object_id_of("AT2019azh") == "2019azh"
    argv = _identify_argv(REAL / "x.txt", ["at2019azh"], 0.0, 0.3, REAL, 0.022)
    assert argv[argv.index("--forced-redshift") + 1] == "0.022"
    assert "--forced-redshift" not in _identify_argv(REAL / "x.txt", [], 0.0, 0.3, REAL)
