"""The README's "Measured" table, written from results and records so that it cannot go stale.

``ciderlab measured --write`` (after a fresh clone's ``make``) reads the stages' metrics files
into one snapshot, ``benchmarks/results/measured.json`` (the commit and every number the
table prints), and rewrites the README's table between its two markers from that snapshot and
the timing records (``benchmarks/results/timings.jsonl``: one JSON object per line, ``what``
and ``measured``, written down when a run is timed). A test renders the table from those two
tracked files and fails when the README says anything else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ciderlab.errors import InputError
from ciderlab.io import atomic_path, load_json, load_records

BEGIN = "<!-- measured: begin (written by `ciderlab measured --write`; do not edit) -->"
END = "<!-- measured: end -->"
SNAPSHOT = Path("benchmarks/results/measured.json")
TIMINGS = Path("benchmarks/results/timings.jsonl")

# Snapshot name -> (metrics file under results/, dotted key in it). A missing file or key is
# an error: the table is written from a complete run only.
SOURCES = {
    "cv": ("evaluate/metrics.json", "cross_validation"),
    "fixed_fold": ("evaluate/metrics.json", "seeds"),
    "end_to_end": ("evaluate/metrics.json", "end_to_end"),
    "seen": ("evaluate/metrics.json", "seen_against_unseen"),
    "galspecnet": ("train_galspecnet/metrics.json", ""),
    "applecider": ("train_multimodal/metrics.json", ""),
    "reliability": ("reliability/metrics.json", ""),
    "real": ("real_spectra/metrics.json", ""),
    "baselines": ("baselines/metrics.json", ""),
}
# What the table keeps of each (anything else in the metrics files stays there).
KEEP = {
    "cv": ["n_folds", "headline_classes", "macro_f1", "accuracy", "ia_vs_non_ia_accuracy",
           "redshift_rms", "redshift_outlier_fraction", "redshift_sigma_nmad",
           "pooled_redshift.rms", "pooled.n_spectra", "separate"],
    "fixed_fold": ["seeds", "macro_f1.values", "ia_vs_non_ia.accuracy.values"],
    "end_to_end": ["macro_f1", "accuracy"],
    "seen": ["seen_all.f1", "unseen_all.f1", "seen_all.n_objects", "unseen_all.n_objects"],
    "galspecnet": ["n_folds", "macro_f1", "accuracy", "ia_vs_non_ia_accuracy"],
    "applecider": ["classes", "objects_per_class", "n_folds", "modes", "early",
                   "objects_left_out_for_conflicting_labels"],
    "reliability": ["calibration.method", "calibration.ece_before", "calibration.ece_after",
                    "calibration.n_test_spectra", "calibration.ia_completeness_after",
                    "none_of_these.score", "none_of_these.auroc",
                    "none_of_these.auroc_interval", "none_of_these.auroc_interval_level",
                    "none_of_these.by_score",
                    "none_of_these.in_flagged_fraction", "none_of_these.out_flagged_fraction",
                    "redshift_interval.level", "redshift_interval.coverage",
                    "redshift_interval.coverage_by_fold"],
    "real": ["n_files", "n_unreadable", "ours", "snid_sage", "paired", "realism_auc"],
    "baselines": ["n_spectra", "spectranet", "snid_sage", "speed_ratio"],
}


def _get(tree: dict, dotted: str, where: str):
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(tree, dict) or part not in tree:
            raise InputError(f"{where}: no '{dotted}' (run the whole pipeline first: `make`)")
        tree = tree[part]
    return tree


def _put(tree: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def collect(results: str | Path, commit: str) -> dict:
    """The snapshot of a run's results: ``{"commit": ..., name: {kept keys}}``."""
    results = Path(results)
    snapshot = {"commit": commit}
    for name, (path, key) in SOURCES.items():
        where = str(results / path)
        if not (results / path).is_file():
            raise InputError(f"{where}: missing (run the whole pipeline first: `make`)")
        section = _get(load_json(results / path), key, where)
        kept: dict = {}
        for dotted in KEEP[name]:
            _put(kept, dotted, _get(section, dotted, f"{where} [{key}]"))
        snapshot[name] = kept
    return snapshot


MODE_NAMES = {"photo": "photometry", "image": "cutouts", "meta": "metadata",
              "ztf": "all three fused"}


def _ms(spread: dict, digits: int = 3) -> str:
    return f"{spread['mean']:.{digits}f} ± {spread['std']:.{digits}f}"


def _values(values: list, digits: int = 3) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _real_row(real: dict) -> str:
    ours, snid = real["ours"], real["snid_sage"]
    typed = ours["catalogue"]["n_typed"]

    def right(side: dict) -> str:
        low, high = side["accuracy_interval"]
        return (f"{side['n_right']} of {typed} ({side['accuracy']:.2f}, "
                f"{side['interval_level']:.0%} {low:.2f}–{high:.2f})")

    def paired(condition: str) -> str:
        test = real["paired"][condition]
        return (f"{test['ours_only']} files right for SpectraNet alone, "
                f"{test['snid_sage_only']} for SNID-SAGE alone, p = {test['p_value']:.2f}")

    per_class = "; ".join(
        f"{name} {ours['catalogue']['per_class'][name]['right']}/"
        f"{snid['catalogue']['per_class'][name]['right']} of {counts['n']}"
        for name, counts in ours["catalogue"]["per_class"].items())
    novae = ours["catalogue"]["untrained_flagged"]
    auc = real["realism_auc"]
    return (f"{real['n_files']} files, {real['n_unreadable']} unreadable, {typed} of trained "
            f"classes. SpectraNet types {right(ours['catalogue'])} with the catalogue redshift "
            f"and {right(ours['predicted'])} with its own; its redshifts: median "
            f"\\|Δz\\|/(1+z) {ours['predicted']['median_dz']:.4f}, "
            f"{ours['predicted']['n_catastrophic']} catastrophic (> 0.15). SNID-SAGE on the "
            f"same files: {right(snid['catalogue'])} forced to the catalogue redshift, "
            f"{right(snid['predicted'])} with its own; median "
            f"{snid['predicted']['median_dz']:.4f}, {snid['predicted']['n_catastrophic']} "
            f"catastrophic. Paired on the same files (exact McNemar test): catalogue "
            f"redshift {paired('catalogue')}; own redshift {paired('predicted')}. "
            f"Right per class, ours / SNID-SAGE, catalogue redshift: {per_class}. "
            f"\"None of these\" flags {sum(novae.values())} of the {len(novae)} files of "
            f"untrained classes and {ours['catalogue']['trained_flagged']} of the {typed} others. "
            f"Realism AUC of real against realised inputs {auc['flux']['auc_mean']:.2f} "
            f"(coverage masks alone {auc['coverage_only']['auc_mean']:.2f})")


def score_rows(s: dict) -> list[tuple[str, str]]:
    """(what, measured) rows of a snapshot, in the table's order."""
    cv, fixed, rel = s["cv"], s["fixed_fold"], s["reliability"]
    headline = ", ".join(cv["headline_classes"])
    separate = "; ".join(f"{name}: {v['n_objects']} objects, recall {v['recall']:.2f}"
                         for name, v in cv["separate"].items()) or "none"
    app = s["applecider"]
    modes = ", ".join(f"{MODE_NAMES.get(mode, mode)} {_ms(v['macro_f1'])}"
                      for mode, v in app["modes"].items())
    seen = s["seen"]
    limits = ", ".join(f"{name} {f1:.2f} vs {seen['unseen_all']['f1'][name]:.2f}"
                       for name, f1 in seen["seen_all"]["f1"].items()
                       if name in cv["headline_classes"] and name in seen["unseen_all"]["f1"])
    early = "; ".join(f"{MODE_NAMES.get(mode, mode)} cut at " + " / ".join(days for days in cuts) + " days: "
                      + " / ".join(f"{v['macro_f1']['mean']:.3f}" for v in cuts.values())
                      for mode, cuts in app["early"].items())
    other_scores = ", ".join(f"{name} {v['auroc_measure']:.3f}"
                             for name, v in rel["none_of_these"]["by_score"].items())
    folds = rel["redshift_interval"]["coverage_by_fold"]
    base = s["baselines"]
    return [
        (f"cross-validated scores ({cv['n_folds']} folds by object, mean ± std over folds; "
         f"{cv['pooled']['n_spectra']:,} test spectra)",
         f"macro-F1 over {headline} {_ms(cv['macro_f1'])}; accuracy {_ms(cv['accuracy'])}; "
         f"SN Ia vs non-Ia accuracy {_ms(cv['ia_vs_non_ia_accuracy'])}; redshift RMS "
         f"Δz/(1+z) {_ms(cv['redshift_rms'], 4)} (pooled {cv['pooled_redshift']['rms']:.4f}), "
         f"outliers (\\|Δ\\| > 0.15) {_ms(cv['redshift_outlier_fraction'], 4)}, σ_NMAD "
         f"{_ms(cv['redshift_sigma_nmad'], 4)}; outside the headline: {separate}"),
        ("the paper's protocol (the fixed fold's test objects, one model per seed)",
         f"seeds {', '.join(str(x) for x in fixed['seeds'])}: macro-F1 "
         f"{_values(fixed['macro_f1']['values'])}; SN Ia vs non-Ia "
         f"{_values(fixed['ia_vs_non_ia']['accuracy']['values'])}; end to end with the "
         f"predicted redshift (first seed): macro-F1 {s['end_to_end']['macro_f1']:.3f}"),
        (f"what limits them: per-class F1 on the {seen['seen_all']['n_objects']} objects the "
         f"classifier trained on vs the {seen['unseen_all']['n_objects']} new ones (fixed fold)",
         limits + " (book: Classification, \"Noise and host light, or the objects?\")"),
        ("GalSpecNet on the same folds and test spectra (observed frame, no redshift)",
         f"macro-F1 {_ms(s['galspecnet']['macro_f1'])}, accuracy "
         f"{_ms(s['galspecnet']['accuracy'])}, SN Ia vs non-Ia "
         f"{_ms(s['galspecnet']['ia_vs_non_ia_accuracy'])}"),
        (f"AppleCiDEr on the real alerts ({app['n_folds']} folds by object, "
         f"{sum(app['objects_per_class'].values())} objects of {len(app['classes'])} SIMBAD "
         f"groups, {app['objects_left_out_for_conflicting_labels']} left out for conflicting "
         "labels)", f"macro-F1 {modes}; {early}"),
        ("reliability (every setting fitted on validation objects)",
         f"expected calibration error over {rel['calibration']['n_test_spectra']:,} "
         f"cross-validated test spectra {rel['calibration']['ece_before']:.3f} before, "
         f"{rel['calibration']['ece_after']:.3f} after calibration "
         f"({rel['calibration'].get('method', 'temperature')}); SN Ia completeness "
         f"at ≤ 1 % contamination {rel['calibration']['ia_completeness_after']['completeness']:.3f}. "
         f"\"None of these\" ({rel['none_of_these']['score']}): AUROC "
         f"{rel['none_of_these']['auroc']:.3f} "
         f"({rel['none_of_these']['auroc_interval_level']:.0%} over resampled objects "
         f"{rel['none_of_these']['auroc_interval'][0]:.3f}–"
         f"{rel['none_of_these']['auroc_interval'][1]:.3f}) on the bank's out-of-class "
         f"objects it was not chosen on (on those: {other_scores}); it flags "
         f"{rel['none_of_these']['in_flagged_fraction']:.1%} of in-class and "
         f"{rel['none_of_these']['out_flagged_fraction']:.1%} of out-of-class test spectra. "
         f"{rel['redshift_interval']['level']:.0%} redshift intervals cover "
         f"{rel['redshift_interval']['coverage']:.1%} of test spectra (folds "
         f"{min(folds):.1%}–{max(folds):.1%})"),
        ("real spectra (`real_spectra/`; their labels and scores never used to choose "
         "anything)", _real_row(s["real"])),
        (f"SNID-SAGE vs SpectraNet on the same {base['n_spectra']} realised test spectra, one "
         "thread each",
         f"accuracy {base['snid_sage']['accuracy']:.2f} vs {base['spectranet']['accuracy']:.2f}; "
         f"SN Ia vs non-Ia {base['snid_sage']['ia_vs_non_ia_accuracy']:.2f} vs "
         f"{base['spectranet']['ia_vs_non_ia_accuracy']:.2f}; redshift RMS "
         f"{base['snid_sage']['redshift_rms']:.3f} vs {base['spectranet']['redshift_rms']:.3f}; "
         f"SpectraNet {base['speed_ratio']:,.0f}x as fast"),
    ]


def render(snapshot: dict, timings: list[dict]) -> str:
    """The README block (markers included): the snapshot's scores, then the timing records."""
    lines = [BEGIN, "",
             f"Scores from a fresh clone's `make` at commit {snapshot['commit']} "
             "(`benchmarks/results/measured.json`); timings from "
             "`benchmarks/results/timings.jsonl`.", "",
             "| what | measured |", "|---|---|"]
    for what, measured in score_rows(snapshot) + [(t["what"], t["measured"]) for t in timings]:
        lines.append(f"| {what} | {measured} |")
    return "\n".join(lines + ["", END])


def replace_block(readme: str, block: str) -> str:
    """``readme`` with the text between the markers (markers included) replaced by ``block``."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no measured block: add the lines\n{BEGIN}\n{END}")
    return readme[:start] + block + readme[end + len(END):]


def readme_block(readme: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError("README has no measured block")
    return readme[start:end + len(END)]


def write(root: str | Path, results: str | Path, commit: str) -> Path:
    """Snapshot ``results`` into ``measured.json`` and rewrite the README's block; atomic."""
    root = Path(root)
    with atomic_path(root / SNAPSHOT) as tmp:  # in the metrics files' order: the table's
        Path(tmp).write_text(json.dumps(collect(results, commit), indent=1,
                                        ensure_ascii=False) + "\n")
    snapshot = load_json(root / SNAPSHOT)  # render what the test will render
    readme = root / "README.md"
    text = replace_block(readme.read_text(encoding="utf-8"),
                         render(snapshot, load_records(root / TIMINGS)))
    mode = readme.stat().st_mode
    with atomic_path(readme) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
        os.chmod(tmp, mode)  # mkstemp's 0600 is not the README's
    return readme


def is_current(root: str | Path) -> bool:
    """Whether the README's block is what the tracked snapshot and records render."""
    root = Path(root)
    snapshot = load_json(root / SNAPSHOT)
    return readme_block((root / "README.md").read_text(encoding="utf-8")) == render(
        snapshot, load_records(root / TIMINGS))
