"""The AppleCiDEr page's quoted numbers and verdicts (applecider.sentences)."""

import pandas as pd
import pytest

from ciderlab.applecider import sentences


def scores(*values):
    return {"macro_f1": {"mean": sum(values) / len(values), "values": list(values)}}


def metrics_with(best, runner_up, simple):
    modes = {"photometry": scores(*best), "image": scores(*runner_up),
             sentences.SIMPLE_BASELINE: scores(*simple),
             "majority class": scores(0.1, 0.1, 0.1), "stratified chance": scores(0.2, 0.2, 0.2)}
    for mode in modes.values():
        values = mode["macro_f1"]["values"]
        mode["macro_f1"]["std"] = pd.Series(values).std(ddof=0)
    return {"modes": modes,
            "baselines": [sentences.SIMPLE_BASELINE, "majority class", "stratified chance"]}


def test_the_best_network_is_ahead_only_when_every_fold_says_so_beyond_the_spread():
    clearly = sentences.modes_compared(metrics_with([0.6, 0.6, 0.6], [0.4, 0.5, 0.45],
                                                    [0.3, 0.3, 0.3]))
    assert clearly["best_mode"] == "photometry" and clearly["runner_up"] == "image"
    assert clearly["ahead_verdict"] == "ahead beyond that spread"
    assert clearly["simple_verdict"] == "ahead beyond that spread"
    tied = sentences.modes_compared(metrics_with([0.6, 0.3, 0.6], [0.5, 0.45, 0.5],
                                                 [0.7, 0.2, 0.6]))
    assert tied["ahead_verdict"].startswith("not ahead beyond that spread: ")
    assert tied["simple_verdict"] == "not ahead beyond that spread"


def test_a_list_of_days_reads_as_english():
    assert sentences.listed([3.0]) == "3"
    assert sentences.listed([1.0, 3.0, 7.5]) == "1, 3 and 7.5"


def test_fixed_fold_scores_refuse_a_fold_that_is_not_there():
    predictions = pd.DataFrame({"row": [0], "fold": [1], "p_0": [1.0], "p_1": [0.0]})
    meta = pd.DataFrame({"label": ["SN Ia"]})
    with pytest.raises(ValueError, match="no predictions of fold 0"):
        sentences.fixed_fold_scores(predictions, meta, ["SN Ia", "SN II"], ["SN Ia", "SN II"], 0)
    scored = sentences.fixed_fold_scores(predictions, meta, ["SN Ia", "SN II"],
                                         ["SN Ia", "SN II"], 1)
    assert scored["accuracy"] == 1.0
