import numpy as np
import pandas as pd
import pytest

from ciderlab.spectranet.duplicates import (compute_spectrum_matches, find_duplicate_objects,
                                      merge_duplicate_objects)

N_WAVE = 400
WAVE = np.exp(np.linspace(np.log(3000), np.log(9000), N_WAVE))


def features(seed: int, lo: int = 20, hi: int = 380) -> np.ndarray:
    """A flattened-looking spectrum: random absorption/emission lines, zero off [lo, hi)."""
    rng = np.random.default_rng(seed)
    x = np.arange(N_WAVE)
    flux = sum(a * np.exp(-0.5 * ((x - c) / w) ** 2)
               for a, c, w in zip(rng.normal(0, 0.3, 15), rng.uniform(0, N_WAVE, 15),
                                  rng.uniform(3, 15, 15)))
    flux = np.where((x >= lo) & (x < hi), flux - flux[lo:hi].mean(), 0.0)
    return flux


def catalogue(rows) -> pd.DataFrame:
    """rows: (object_id, label, age_days); templates are named after the object."""
    return pd.DataFrame([{"object_id": o, "template": o.upper(), "label": lab, "age_days": age,
                          "reason": ""} for o, lab, age in rows])


def find(fluxes, rows, **kwargs):
    kwargs.setdefault("min_overlap_bins", 100)
    return find_duplicate_objects(WAVE, fluxes, catalogue(rows), **kwargs)


def test_identical_spectra_of_two_names_at_one_phase_are_one_object():
    noise = np.random.default_rng(0).normal(0, 1e-3, N_WAVE) * (features(1) != 0)
    fluxes = [features(1), features(1) + noise, features(2)]
    rows = [("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.5), ("2011by", "SN Ia", 0.0)]
    found = find(fluxes, rows)
    assert found[["object_id", "duplicate_of"]].values.tolist() == [["ptf11kly", "2011fe"]]
    assert found.loc[0, "max_correlation"] > 0.999
    assert found.loc[0, "n_matching_spectra"] == 1
    assert found.loc[0, "template"] == "PTF11KLY"
    merged = merge_duplicate_objects(catalogue(rows), found)
    assert merged["object_id"].tolist() == ["2011fe", "2011fe", "2011by"]
    assert merged["original_object_id"].tolist() == ["2011fe", "ptf11kly", "2011by"]


def test_different_spectra_are_not_merged():
    fluxes = [features(seed) for seed in range(6)]
    rows = [(f"200{i}a", "SN Ia", 0.0) for i in range(6)]
    assert find(fluxes, rows, min_correlation=0.9).empty


def test_the_same_spectrum_at_a_very_different_phase_is_not_a_duplicate():
    fluxes = [features(1), features(1)]
    assert find(fluxes, [("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 30.0)]).empty
    assert len(find(fluxes, [("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 1.5)])) == 1
    # Undefined ages (NaN, e.g. AGN composites) match each other, not a defined age.
    assert len(find(fluxes, [("agn", "AGN", np.nan), ("qso", "AGN", np.nan)])) == 1
    assert find(fluxes, [("agn", "AGN", np.nan), ("qso", "AGN", 0.0)]).empty


def test_spectra_of_one_object_are_never_reported():
    fluxes = [features(1), features(1)]
    assert find(fluxes, [("2011fe", "SN Ia", 0.0), ("2011fe", "SN Ia", 0.0)]).empty


def test_classes_must_agree_unless_asked_otherwise():
    fluxes = [features(1), features(1)]
    rows = [("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ic", 0.0)]
    assert find(fluxes, rows).empty
    found = find(fluxes, rows, same_label_only=False)
    assert found[["label", "duplicate_of_label"]].values.tolist() == [["SN Ic", "SN Ia"]]


def test_dropped_rows_are_ignored():
    fluxes = [features(1), features(1)]
    rows = catalogue([("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)])
    rows.loc[1, "reason"] = "corrupt spectrum"
    assert find_duplicate_objects(WAVE, fluxes, rows, min_overlap_bins=100).empty


def test_correlation_is_over_the_common_coverage_only():
    # Two names for one spectrum, each keeping a different part of it: identical where both
    # cover, so a duplicate; a correlation over either full range would be diluted by zeros.
    full = features(3, lo=0, hi=N_WAVE)
    bins = np.arange(N_WAVE)
    blue, red = np.where(bins < 300, full, 0), np.where(bins >= 100, full, 0)
    rows = [("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)]
    found = find([blue, red], rows, min_overlap_bins=200)
    assert found.loc[0, "overlap_bins"] == 200
    assert found.loc[0, "max_correlation"] == pytest.approx(1.0)
    assert find([blue, red], rows, min_overlap_bins=201).empty


def test_vectorised_correlations_equal_pairwise_pearson_for_every_pair_at_a_similar_phase():
    rng = np.random.default_rng(5)
    n = 12
    fluxes = [features(seed, lo=int(rng.integers(0, 100)), hi=int(rng.integers(250, 400)))
              for seed in range(n)]
    ages = np.round(rng.uniform(-10, 10, n), 1)
    ages[[2, 7]] = np.nan
    rows = catalogue([(f"obj{i}", "SN Ia", age) for i, age in enumerate(ages)])
    matches = compute_spectrum_matches(WAVE, fluxes, rows, min_correlation=-1.0,
                                       max_age_difference_days=4.0, min_overlap_bins=1,
                                       block_size=2)
    expected = {(i, j) for i in range(n) for j in range(i + 1, n)
                if abs(ages[i] - ages[j]) <= 4.0 or (np.isnan(ages[i]) and np.isnan(ages[j]))}
    assert set(zip(matches["row_a"], matches["row_b"])) == expected
    assert 10 < len(expected) < n * (n - 1) // 2
    for _, pair in matches.iterrows():
        a, b = fluxes[pair["row_a"]], fluxes[pair["row_b"]]
        common = (a != 0) & (b != 0)
        assert pair["overlap_bins"] == common.sum()
        assert pair["correlation"] == pytest.approx(np.corrcoef(a[common], b[common])[0, 1])


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_kept_name_is_iau_then_more_spectra_then_alphabetical(order):
    def kept(rows, n_spectra):
        fluxes, table = [], []
        for index in order:
            for _ in range(n_spectra[index]):
                fluxes.append(features(1))
                table.append(rows[index])
        found = find(fluxes, table)
        return set(found["duplicate_of"]), set(found["object_id"])

    # An IAU designation wins even with fewer spectra.
    assert kept([("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)], [1, 3]) == (
        {"2011fe"}, {"ptf11kly"})
    # Between two survey names, more spectra win; on a tie, the alphabetically first.
    assert kept([("lsq12a", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)], [1, 2]) == (
        {"ptf11kly"}, {"lsq12a"})
    assert kept([("lsq12a", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)], [1, 1]) == (
        {"lsq12a"}, {"ptf11kly"})


def test_merging_follows_chains_and_resolves_cycles_deterministically():
    table = catalogue([("a", "SN Ia", 0), ("b", "SN Ia", 0), ("c", "SN Ia", 0), ("d", "SN Ia", 0),
                       ("x", "SN Ia", 0), ("y", "SN Ia", 0), ("y", "SN Ia", 0)])
    chain = pd.DataFrame({"object_id": ["a", "b"], "duplicate_of": ["b", "c"]})
    assert merge_duplicate_objects(table, chain)["object_id"].tolist() == list("cccdxyy")
    # The same chain listed in the other order gives the same result.
    assert merge_duplicate_objects(table, chain[::-1])["object_id"].tolist() == list("cccdxyy")
    # A cycle keeps the preferred name of its members (y: more spectra).
    cycle = pd.DataFrame({"object_id": ["x", "y"], "duplicate_of": ["y", "x"]})
    assert merge_duplicate_objects(table, cycle)["object_id"].tolist() == list("abcdyyy")
    # Merging twice keeps the names from before the first merge.
    once = merge_duplicate_objects(table, chain)
    twice = merge_duplicate_objects(once, cycle)
    assert twice["original_object_id"].tolist() == list("abcdxyy")


def test_a_full_run_merges_three_names_of_one_object_into_one():
    fluxes = [features(1), features(1), features(1), features(2)]
    rows = [("ptf11kly", "SN Ia", 0.0), ("lsq11a", "SN Ia", 0.0), ("2011fe", "SN Ia", 0.0),
            ("2011by", "SN Ia", 0.0)]
    found = find(fluxes, rows)
    merged = merge_duplicate_objects(catalogue(rows), found)
    assert merged["object_id"].tolist() == ["2011fe", "2011fe", "2011fe", "2011by"]


def test_mismatched_inputs_say_what_to_pass():
    rows = catalogue([("2011fe", "SN Ia", 0.0), ("ptf11kly", "SN Ia", 0.0)])
    with pytest.raises(ValueError, match="one flux array per catalogue row"):
        find_duplicate_objects(WAVE, [features(1)], rows)
    with pytest.raises(ValueError, match="wave_aa grid"):
        find_duplicate_objects(WAVE[:10], [features(1), features(1)], rows)
    with pytest.raises(ValueError, match="duplicate_of"):
        merge_duplicate_objects(rows, pd.DataFrame({"object_id": ["x"]}))
