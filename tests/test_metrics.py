import numpy as np
import pytest

from ciderlab.evaluation.metrics import (classification_metrics, headline_classes, ia_vs_non_ia,
                                         macro_f1_over, redshift_metrics, row_normalise)

CLASSES = ["SN Ia", "SN Ib", "SN Ic", "TDE"]


def onehot(pred, k=4):
    proba = np.full((len(pred), k), 0.1)
    proba[np.arange(len(pred)), pred] = 0.7
    return proba


def test_classification_metrics_hand_case():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 0, 2])
    m = classification_metrics(y_true, onehot(y_pred), CLASSES, CLASSES)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["SN Ia"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["SN Ia"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["SN Ib"]["f1"] == pytest.approx(0.5)
    # macro over all four headline classes: TDE has no spectrum and none is called TDE, so it
    # scores zero (a fixed set, so that sets with and without a TDE compare)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 1.0 + 0.0) / 4)
    assert m["confusion_matrix"][0] == [2, 1, 0, 0]
    assert m["per_class"]["TDE"]["support"] == 0
    assert np.isnan(m["per_class"]["TDE"]["roc_auc"])
    # Ia vs non-Ia: true Ia {0,1,2}, predicted Ia {0,1,4}
    assert m["ia_vs_non_ia"] == {"accuracy": pytest.approx(4 / 6), "purity": pytest.approx(2 / 3),
                                 "completeness": pytest.approx(2 / 3)}


def test_top3_counts_the_true_class_in_the_three_most_probable():
    proba = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]])
    m = classification_metrics(np.array([2, 3]), proba, CLASSES, CLASSES)
    assert m["top3_accuracy"] == 0.5


def test_perfect_ranking_has_auc_one():
    y_true = np.array([0, 1, 2, 3])
    m = classification_metrics(y_true, onehot(y_true), CLASSES, CLASSES)
    assert m["macro_roc_auc"] == 1.0 and m["macro_f1"] == 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="no predictions"):
        classification_metrics(np.array([], int), np.zeros((0, 4)), CLASSES, CLASSES)
    with pytest.raises(ValueError, match="NaN"):
        classification_metrics(np.array([0]), np.array([[np.nan, 0, 0, 0]]), CLASSES, CLASSES)
    with pytest.raises(ValueError, match="subset"):
        classification_metrics(np.array([0]), onehot([0]), CLASSES, ["SN Ia", "SN II"])
    with pytest.raises(ValueError, match="subset"):
        classification_metrics(np.array([0]), onehot([0]), CLASSES, [])


def test_headline_classes_keep_order_and_leave_out_the_separate_ones():
    assert headline_classes(["AGN", "SN Ia", "TDE"], ["AGN"]) == ["SN Ia", "TDE"]
    assert headline_classes(["SN Ia", "TDE"], ["AGN"]) == ["SN Ia", "TDE"]


def test_spectra_outside_the_headline_are_scored_on_their_own():
    """Classes [SN Ia, SN Ib, SN Ic, TDE], headline without TDE. Six headline spectra (as the
    hand case above) plus two TDEs, one called TDE and one called SN Ia."""
    y_true = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    y_pred = np.array([0, 0, 1, 1, 0, 2, 3, 0])
    m = classification_metrics(y_true, onehot(y_pred), CLASSES, ["SN Ia", "SN Ib", "SN Ic"])
    assert m["n_spectra"] == 6 and m["headline_classes"] == ["SN Ia", "SN Ib", "SN Ic"]
    assert m["accuracy"] == pytest.approx(4 / 6)
    # the TDE called SN Ia is not a headline spectrum: SN Ia's precision is that of the six
    assert m["per_class"]["SN Ia"]["precision"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 1.0) / 3)
    assert set(m["per_class"]) == {"SN Ia", "SN Ib", "SN Ic"}
    assert m["separate"] == {"TDE": {"n_spectra": 2, "recall": 0.5}}
    assert m["ia_vs_non_ia"]["accuracy"] == pytest.approx(4 / 6)


def test_a_set_of_separate_spectra_only_has_no_headline_scores():
    m = classification_metrics(np.array([3, 3]), onehot([3, 0]), CLASSES, ["SN Ia", "SN Ib"])
    assert m["n_spectra"] == 0 and "macro_f1" not in m
    assert m["separate"]["TDE"] == {"n_spectra": 2, "recall": 0.5}


def test_macro_f1_over_a_fixed_set_scores_an_absent_class_zero():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 1, 1])
    # F1: class 0 = 2/3 (precision 1, recall 1/2), class 1 = 2/3 (precision 1/2, recall 1)
    assert macro_f1_over(y_true, y_pred, [0, 1]) == pytest.approx(2 / 3)
    assert macro_f1_over(y_true, y_pred, [0, 1, 2]) == pytest.approx(4 / 9)


def test_ia_vs_non_ia_without_predicted_ia_has_undefined_purity():
    result = ia_vs_non_ia(np.array([True, False]), np.array([False, False]))
    assert result["accuracy"] == 0.5 and np.isnan(result["purity"]) and result["completeness"] == 0


def test_redshift_metrics_hand_case():
    z_true = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    z_pred = np.array([0.01, -0.01, 0.02, 0.0, 1.6])  # the last: delta = 0.3, an outlier
    m = redshift_metrics(z_pred, z_true)
    delta = np.array([0.01, -0.01, 0.02, 0.0, 0.3])
    assert m["rms"] == pytest.approx(np.sqrt(np.mean(delta ** 2)))
    assert m["bias"] == pytest.approx(delta.mean())
    assert m["outlier_fraction"] == pytest.approx(0.2)
    assert m["sigma_nmad"] == pytest.approx(1.4826 * 0.01)  # median 0.01; |d - 0.01| median 0.01
    assert m["sigma_nmad_uncentred_authors"] == pytest.approx(1.4826 * 0.01)
    assert m["mae"] == pytest.approx(np.mean(np.abs(z_pred - z_true)))


def test_centred_and_uncentred_nmad_differ_under_bias():
    z_true = np.zeros(5)
    m = redshift_metrics(z_true + np.array([0.1, 0.11, 0.09, 0.1, 0.1]), z_true)
    assert m["sigma_nmad"] == pytest.approx(0.0)
    assert m["sigma_nmad_uncentred_authors"] == pytest.approx(1.4826 * 0.1)


def test_row_normalise_keeps_empty_rows_zero():
    out = row_normalise(np.array([[2, 2], [0, 0]]))
    assert out.tolist() == [[0.5, 0.5], [0.0, 0.0]]


def test_spread_is_mean_and_sample_std_with_the_values():
    from ciderlab.evaluation.metrics import spread

    result = spread([0.6, 0.8])
    assert result["mean"] == pytest.approx(0.7)
    assert result["std"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    assert result["values"] == [0.6, 0.8]
    assert np.isnan(spread([0.5])["std"])
