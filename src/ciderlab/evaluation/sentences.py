"""The numbers and phrases a book page's prose quotes, computed from results in one tested place,
so that a notebook reads as prose and calls: it glues what these functions return."""

from __future__ import annotations

from ciderlab.evaluation.selection import verdict_sentence
from ciderlab.evaluation.tables import (mean_std, table_seen_against_unseen,
                                        table_top_confusions)
from ciderlab.spectranet.out_of_class import DETECTOR_SCORES, score_label


def seen_against_new(seen_against_unseen: dict, separate: list[str]) -> dict:
    """What limits the classes: the three with the largest F1 gap between the objects trained
    on (seen) and new ones, and the two weakest even on seen objects (with their clean-subset
    F1), leaving out the ``separate`` classes."""
    seen = table_seen_against_unseen(seen_against_unseen)
    seen = seen.drop(index=[name for name in separate if name in seen.index])
    by_gap = seen.sort_values("seen - new", ascending=False).head(3)
    by_seen = seen.sort_values("F1 seen objects").head(2)
    return {
        "largest_gaps": ", ".join(f"{name} ({r['F1 seen objects']:.2f} on seen objects, "
                                  f"{r['F1 new objects']:.2f} on new ones)"
                                  for name, r in by_gap.iterrows()),
        "hardest_seen": ", ".join(f"{name} ({r['F1 seen objects']:.2f}, clean "
                                  f"{r['F1 seen objects, clean']:.2f})"
                                  for name, r in by_seen.iterrows()),
        "n_seen_objects": seen_against_unseen["seen_all"]["n_objects"]}


def cross_validated_classes(cv: dict) -> dict:
    """The cross-validated headline, the weakest and strongest classes, the top confusions."""
    pooled = cv["pooled"]
    f1 = {name: v["f1"] for name, v in pooled["per_class"].items() if v["support"]}
    ranked = sorted(f1.items(), key=lambda item: item[1])
    top = table_top_confusions(pooled, n=3)
    return {
        "n_folds": cv["n_folds"], "cv_macro_f1": mean_std(cv["macro_f1"]),
        "cv_accuracy": mean_std(cv["accuracy"]), "cv_ia": mean_std(cv["ia_vs_non_ia_accuracy"]),
        "headline_classes": ", ".join(cv["headline_classes"]),
        "separate_classes": ", ".join(cv["separate"]) or "none",
        "n_cv_objects": sum(pooled["n_objects"].values()), "n_cv_spectra": pooled["n_spectra"],
        "separate_scores": ", ".join(f"{name}: {v['n_objects']} objects, recall "
                                     f"{v['recall']:.2f}" for name, v in cv["separate"].items())
        or "none",
        "weakest": ", ".join(f"{name} ({value:.2f})" for name, value in ranked[:3]),
        "strongest": ", ".join(f"{name} ({value:.2f})" for name, value in ranked[::-1][:3]),
        "top_confusions": "; ".join(f"{r['true class']} called {r['predicted as']} "
                                    f"({r['% of true class']:.0f} %)" for _, r in top.iterrows())}


def clean_subset(clean: dict) -> dict:
    """The cleanest test spectra against all, over the same classes, and which way it went."""
    same = clean.get("macro_f1_same_classes", {"clean": float("nan"),
                                               "all_test": float("nan"), "classes": []})
    gain = same["clean"] - same["all_test"]
    return {"clean_n": clean["n_spectra"], "clean_snr": clean["selection"]["snr_min"],
            "clean_host": clean["selection"]["host_fraction_max"],
            "clean_macro_f1": same["clean"], "all_macro_f1_same": same["all_test"],
            "clean_classes": ", ".join(same["classes"]),
            "clean_verdict": (f"{'higher' if gain >= 0 else 'lower'} by {abs(gain):.2f} over "
                              "these classes together; the table after the next one shows "
                              "which classes the difference comes from")}


def classification_page(metrics: dict, best_epoch: int, selection: list[dict]) -> dict:
    """Every value the Classification page quotes: ``evaluate``'s metrics, the classifier's
    best epoch and the recipe-selection records of the classifier."""
    cv = metrics["cross_validation"]
    seeds = metrics["seeds"]
    wrong = {k: v for k, v in metrics["objects_mostly_wrong"].items() if k != "SN Ia"}
    return {
        **cross_validated_classes(cv),
        "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
        "ia_accuracy": metrics["ia_vs_non_ia"]["accuracy"], "n_test_spectra": metrics["n_spectra"],
        "n_test_objects": sum(metrics["n_test_objects"].values()), "best_epoch": best_epoch,
        "n_seeds": len(seeds["seeds"]), "seed_list": ", ".join(str(s) for s in seeds["seeds"]),
        "macro_f1_seeds": mean_std(seeds["macro_f1"]),
        "ia_accuracy_seeds": mean_std(seeds["ia_vs_non_ia"]["accuracy"]),
        **clean_subset(metrics["clean_subset"]),
        "n_wrong_objects": sum(wrong.values()),
        "n_other_objects": sum(v for k, v in metrics["n_test_objects"].items() if k != "SN Ia"),
        **seen_against_new(metrics["seen_against_unseen"], list(cv["separate"])),
        "n_selection": len(selection), "selection_verdicts": verdict_sentence(selection, 3),
        "narrow_lo": metrics["narrow_coverage"]["obs_wave_range_aa"][0],
        "narrow_hi": metrics["narrow_coverage"]["obs_wave_range_aa"][1]}


def real_set_by_training_objects(per_class, n: int = 2) -> dict:
    """The real-set classes the shipped classifier trained on the fewest objects of, with their
    files typed right (redshift given), against the rest: ``per_class`` is
    ``table_real_per_class`` with the split's columns."""
    given = "SpectraNet, z given"
    ranked = per_class[per_class["files"] > 0].sort_values("trained on")
    fewest, rest = ranked.head(n), ranked.iloc[n:]
    return {
        "fewest_trained": "; ".join(f"{name} ({int(r['trained on'])} objects trained on): "
                                    f"{int(r[given])} of {int(r['files'])} files right"
                                    for name, r in fewest.iterrows()),
        "rest_right": f"{int(rest[given].sum())} of {int(rest['files'].sum())}",
        "rest_min_trained": int(rest["trained on"].min()) if len(rest) else 0}


def seed_ensemble(records: list[dict]) -> dict:
    """The latest ``benchmarks/seed_ensemble.py`` record in words: the seeds' validation
    macro-F1 range, the mean-of-seeds ensemble's, whether it leaves that range, and its gain
    over the first seed's model (the one the pipeline ships; records list it first)."""
    if not records:
        raise ValueError("no seed-ensemble record: run benchmarks/seed_ensemble.py")
    scores = records[-1]["scores"]
    seeds = [s["macro_f1"] for name, s in scores.items() if name.startswith("seed ")]
    ensemble = scores["mean of the seeds"]["macro_f1"]
    verdict = ("within the seeds' range" if min(seeds) <= ensemble <= max(seeds) else
               f"{'above' if ensemble > max(seeds) else 'below'} the seeds' range by "
               f"{ensemble - max(seeds) if ensemble > max(seeds) else min(seeds) - ensemble:.3f}")
    return {"ensemble_f1": f"{ensemble:.3f}", "ensemble_seed_range":
            f"{min(seeds):.3f}-{max(seeds):.3f}", "ensemble_verdict": verdict,
            "ensemble_gain": f"{ensemble - seeds[0]:+.3f}",  # over the first (shipped) seed
            "ensemble_seed_spread": f"{max(seeds) - min(seeds):.3f}",
            "ensemble_commit": records[-1]["commit"][:7]}


def out_of_class_halvings(records: list[dict], stage_auroc: float) -> dict:
    """The latest ``benchmarks/out_of_class_halvings.py`` record in words: over how many
    halvings, the chosen score's measuring AUROC (mean +- standard deviation, range), where the
    stage's own halving (``stage_auroc``) falls among them, and the score with the highest mean
    measuring AUROC (a description: nothing is chosen by it)."""
    if not records:
        raise ValueError("no out-of-class halvings record: run "
                         "benchmarks/out_of_class_halvings.py")
    latest = records[-1]
    measured = [h["auroc_measure"] for h in latest["halvings"]]
    below = sum(value < stage_auroc for value in measured)
    best_name, best = max(latest["by_score"].items(), key=lambda item: item[1]["mean"])
    learned = [s for name, s in latest["by_score"].items() if name in DETECTOR_SCORES]
    return {"halvings_n": latest["repeats"],
            "halvings_chosen": f"{latest['chosen_auroc_mean']:.3f} (standard deviation "
                               f"{latest['chosen_auroc_std']:.3f}, range "
                               f"{min(measured):.3f}–{max(measured):.3f})",
            "halvings_stage_rank": f"{below} of the {len(measured)} halvings measure lower than "
                                   f"the stage's own",
            "halvings_best": f"{score_label(best_name)} ({best['mean']:.3f} on average, chosen "
                             f"by {best['times_chosen']} of {latest['repeats']} halvings)",
            "halvings_learned": f"chosen by {sum(s['times_chosen'] for s in learned)} of "
                                f"{latest['repeats']} halvings and best on the measuring half "
                                f"in {sum(s['times_best'] for s in learned)}",
            "halvings_objects": f"{min(h['n_choose_objects'] for h in latest['halvings'])}–"
                                f"{max(h['n_choose_objects'] for h in latest['halvings'])}",
            "halvings_commit": latest["commit"][:7]}


def paired_with_snid(real: dict, level: float) -> dict:
    """The real-set page's paired comparison, per redshift condition: files only SpectraNet
    typed right, files only SNID-SAGE did, the exact test's p-value, and whether the files tell
    the two methods apart at ``1 - level`` (the accuracy intervals' level)."""
    said = {}
    for condition, test in real["paired"].items():
        apart = test["p_value"] < 1 - level
        said[f"paired_{condition}"] = (
            f"{test['ours_only']} files right for SpectraNet alone and {test['snid_sage_only']} "
            f"for SNID-SAGE alone (p = {test['p_value']:.2f}: "
            + ("the files tell the two apart)" if apart else "the files do not tell the two "
               "apart)"))
    return said
