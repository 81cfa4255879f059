"""Tables of the "How far an answer can be trusted" and "Real spectra" pages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ciderlab.spectranet.out_of_class import score_label

CONDITION_NAMES = {"catalogue": "catalogue redshift given",
                   "predicted": "own redshift (end to end)"}


def table_none_of_these(ood: dict) -> pd.DataFrame:
    """Per out-of-class score: AUROC on the half that chose it and on the half that measures it."""
    rows = [{"score": score_label(name),
             "AUROC, choosing half": s["auroc_choose"], "AUROC, measuring half": s["auroc_measure"],
             "chosen": "yes" if name == ood["score"] else ""}
            for name, s in ood["by_score"].items()]
    return pd.DataFrame(rows)


def table_out_of_class_halvings(records: list[dict]) -> pd.DataFrame:
    """The latest ``benchmarks/out_of_class_halvings.py`` record: per candidate score its
    measuring AUROC over the halvings (mean, lowest, highest), how many halvings chose it and in
    how many it measured best."""
    if not records:
        raise ValueError("no out-of-class halvings record: run "
                         "benchmarks/out_of_class_halvings.py")
    latest = records[-1]
    table = pd.DataFrame([{"score": score_label(name), "AUROC, measuring half (mean)": s["mean"],
                           "lowest": s["low"], "highest": s["high"],
                           f"chosen (of {latest['repeats']} halvings)": s["times_chosen"],
                           "measured best": s["times_best"]}
                          for name, s in latest["by_score"].items()])
    return table.set_index("score")


def table_interval_coverage(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per fold: test spectra, how many intervals hold the true redshift, median half-width."""
    grouped = intervals.groupby("fold")
    table = pd.DataFrame({"test spectra": grouped.size(),
                          "coverage (%)": 100 * grouped["inside"].mean(),
                          "median half-width, dz/(1+z)": grouped["halfwidth"].median()})
    table.loc["all"] = [len(intervals), 100 * intervals["inside"].mean(),
                        intervals["halfwidth"].median()]
    table["test spectra"] = table["test spectra"].astype(int)
    return table.rename_axis("fold")


def table_real_set(scores: dict) -> pd.DataFrame:
    """SpectraNet and SNID-SAGE on the real files, with the catalogue and with their own redshift:
    type accuracy on the files of trained classes, median |dz|/(1+z), catastrophic failures."""
    rows = []
    for method, key in (("SpectraNet (ours)", "ours"), ("SNID-SAGE 0.9.0", "snid_sage")):
        for condition, name in CONDITION_NAMES.items():
            s = scores.get(key, {}).get(condition)
            if s is None:
                continue
            low, high = s["accuracy_interval"]
            rows.append({"method": method, "redshift": name,
                         "type accuracy": s["accuracy"],
                         f"{s['interval_level']:.0%} interval": f"{low:.2f}-{high:.2f}",
                         "right / typed files": f"{s['n_right']} / {s['n_typed']}",
                         "median |dz|/(1+z)": s.get("median_dz", np.nan),
                         "catastrophic (> 0.15)": s.get("n_catastrophic", np.nan)})
    table = pd.DataFrame(rows)
    # A count: whole numbers, blank where the condition has none (the catalogue redshift).
    return table.astype({"catastrophic (> 0.15)": "Int64"})


def table_domain_gap(real: dict, cross_validation: dict, realised_median_dz: float) -> pd.DataFrame:
    """The same scores on realised spectra (cross-validated) and on real ones, side by side."""
    ours = real["ours"]
    return pd.DataFrame([
        {"spectra": "realised (cross-validated, test objects)",
         "type accuracy, redshift given": cross_validation["accuracy"]["mean"],
         "median |dz|/(1+z)": realised_median_dz},
        {"spectra": f"real ({real['n_files']} files)",
         "type accuracy, redshift given": ours["catalogue"]["accuracy"],
         "median |dz|/(1+z)": ours["predicted"].get("median_dz", np.nan)}])


def table_real_per_class(scores: dict, split: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per true class: files, and how many each method typed right under each condition.

    ``split`` (``results/split/split.csv``: object_id, label, split) adds how many of the
    class's objects the bank holds and how many the shipped classifier trained on (the fixed
    fold's training objects; SNID-SAGE matches against the whole bank)."""
    rows = {}
    for key, method in (("ours", "SpectraNet"), ("snid_sage", "SNID-SAGE")):
        for condition in CONDITION_NAMES:
            per_class = scores.get(key, {}).get(condition, {}).get("per_class", {})
            for label, s in per_class.items():
                rows.setdefault(label, {"files": s["n"]})[
                    f"{method}, {'z given' if condition == 'catalogue' else 'own z'}"] = s["right"]
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("class")
    if split is not None:
        objects = split.drop_duplicates("object_id")
        in_bank = objects.groupby("label")["object_id"].nunique()
        trained = objects[objects["split"] == "train"].groupby("label")["object_id"].nunique()
        table.insert(1, "bank objects", table.index.map(in_bank).fillna(0).astype(int))
        table.insert(2, "trained on", table.index.map(trained).fillna(0).astype(int))
    return table


def table_real_answers(ours: pd.DataFrame, snid: pd.DataFrame | None) -> pd.DataFrame:
    """One row per file: its class and catalogue redshift, and each method's answers."""
    table = ours[ours["condition"] == "catalogue"][["file", "class", "redshift"]].copy()
    for condition, suffix in (("catalogue", "z given"), ("predicted", "own z")):
        rows = ours[ours["condition"] == condition].set_index("file")
        answer = rows["predicted"].where(~rows["none_of_these"].fillna(False).astype(bool),
                                         "none of these (" + rows["predicted"].astype(str) + ")")
        table[f"SpectraNet, {suffix}"] = table["file"].map(answer.fillna(rows["error"]))
        if condition == "predicted":
            table["SpectraNet z"] = table["file"].map(rows["redshift_pred"])
        if snid is not None:
            theirs = snid[snid["condition"] == condition].set_index("file")
            table[f"SNID-SAGE, {suffix}"] = table["file"].map(theirs["predicted"])
            if condition == "predicted":
                table["SNID-SAGE z"] = table["file"].map(theirs["redshift_pred"])
    return table.reset_index(drop=True)


def _latest_per_switch(rows: list[dict], records: list[dict],
                       by_commit: bool = False) -> pd.DataFrame:
    """``rows`` (one per record) with only the latest record of each switch, labelled: the
    reference (``none``) as params.yaml at its record's commit. ``by_commit`` keeps the latest
    of each switch at each commit instead, in the records' order, with an ``at`` column: each
    commit's switches are changed from params.yaml at that commit, its own reference row."""
    table = pd.DataFrame(rows)
    table.insert(0, "switch", [r["switch"] for r in records])
    commits = [r.get("commit", "")[:7] for r in records]
    if by_commit:
        table.insert(1, "at", commits)
        table = table.drop_duplicates(["at", "switch"], keep="last").reset_index(drop=True)
        at = list(table["at"])
    else:
        latest = dict(zip(table["switch"], commits))
        table = table.drop_duplicates("switch", keep="last").reset_index(drop=True)
        at = [latest[s] for s in table["switch"]]
    table["switch"] = [f"none (params.yaml at {commit})" if s.startswith("none") and commit else
                       "none (params.yaml)" if s.startswith("none") else s
                       for s, commit in zip(table["switch"], at)]
    return table


def table_realism_switches(records: list[dict]) -> pd.DataFrame:
    """One row per realisation switch (``benchmarks/realism_switches.py``) and commit, each
    commit's reference (``none``) first, the latest record of each: its realism AUCs in the rest
    and observed frames (means over repeated shuffles) and the real inputs' scatter per
    observed-frame region relative to the realised ones' (1 = as much)."""
    rows = []
    for r in records:
        row = {"AUC rest frame": r["auc_rest"], "AUC observed": r["auc_obs"]}
        row.update({f"{region} scatter": value
                    for region, value in r.get("mismatch_obs", {}).items()})
        rows.append(row)
    return _latest_per_switch(rows, records, by_commit=True)


def table_noise_texture(records: list[dict]) -> pd.DataFrame:
    """One row per noise switch (``benchmarks/realism_switches.py`` records with
    ``roughness_rest``), the latest record of each: how well the inputs' bin-to-bin roughness
    tells real from realised (0.5 = alike), over all real files and over the instrument's, and
    the real inputs' scatter at the blue end relative to the realised ones' (1 = as much)."""
    rows, records = [], [r for r in records if "roughness_rest" in r]
    for r in records:
        mine = r["roughness_rest_instrument"]
        rows.append({"roughness AUC, all files": r["roughness_rest"]["auc"],
                     f"roughness AUC, {mine['instrument']} files": mine["auc"],
                     f"median roughness, {mine['instrument']} files": mine["median_real"],
                     "median roughness, realised": mine["median_realised"],
                     "blue end scatter": r.get("mismatch_obs", {}).get("blue end"),
                     "AUC rest frame": r["auc_rest"]})
    if not rows:
        raise ValueError("no record has a roughness AUC: run benchmarks/realism_switches.py")
    return _latest_per_switch(rows, records)


def table_redshift_averaging(records: list[dict]) -> pd.DataFrame:
    """The latest ``benchmarks/redshift_averaging.py`` record: accuracy and macro-F1 of the
    fixed fold's validation spectra classified at the catalogue redshift, at the predicted one,
    and averaged over the predicted one's interval."""
    if not records:
        raise ValueError("no redshift-averaging record: run benchmarks/redshift_averaging.py")
    latest = records[-1]
    table = pd.DataFrame(latest["scores"]).T.rename(columns={"macro_f1": "macro-F1"})
    return table.rename_axis(f"validation spectra ({latest['n_spectra']:,}; at "
                             f"{latest['commit'][:7]})")
