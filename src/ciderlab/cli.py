"""The one command-line interface: ``ciderlab <stage>``, one subcommand per DVC stage.

Each subcommand reads its inputs, calls one library function, writes its outputs and prints
one line. Paths come from the command line (dvc.yaml); numbers from params.yaml.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from ciderlab.errors import CiderlabError

DEFAULT_WHEEL = "data/raw/snid_sage-0.9.0-py3-none-any.whl"
DEFAULT_RELIABILITY = "results/reliability/reliability.json"


# Which options each `ciderlab pull <source>` takes (the others belong to another source).
PULL_OPTIONS = {"raw": {"out", "cache_dir", "index_url"},
                "fritz": {"objects", "out", "url", "params"},
                "ztf-alerts": {"night", "out", "url", "programid", "object_ids", "max_packets",
                               "cache_dir", "params"}}


def cmd_pull(args) -> None:
    """``ciderlab pull [raw|fritz|ztf-alerts]``: the raw archives (default) or an online source."""
    from ciderlab.errors import InputError

    defaults = build_parser().parse_args(["pull", args.source])
    stray = [f"--{k.replace('_', '-')}" for k, v in vars(args).items()
             if k not in PULL_OPTIONS[args.source] | {"source", "command", "func"}
             and v != getattr(defaults, k)]
    if stray:
        raise InputError(f"{', '.join(stray)} does not apply to `ciderlab pull {args.source}`")
    {"raw": _pull_raw, "fritz": _pull_fritz, "ztf-alerts": _pull_ztf_alerts}[args.source](args)


def _pull_raw(args) -> None:
    from ciderlab.data.pull import pull_raw_data

    out = args.out or "data/raw"
    paths = pull_raw_data(Path(out), cache_dir=args.cache_dir, index_url=args.index_url)
    total = sum(p.stat().st_size for p in paths)
    print(f"pull: {len(paths)} archives verified in {out} ({total / 1e6:.1f} MB)")


def _pull_fritz(args) -> None:
    import os

    from ciderlab.data.fritz import (DEFAULT_URL, TOKEN_VARIABLE, pull_fritz, read_object_ids,
                                     summarise)
    from ciderlab.data.online import RetryPolicy
    from ciderlab.errors import InputError
    from ciderlab.params import load_params

    if not args.objects or not args.out:
        raise InputError("`ciderlab pull fritz` needs --objects FILE_OR_IDS and --out DIR")
    section = load_params(args.params).get("pull") or {}
    result = pull_fritz(read_object_ids(args.objects), Path(args.out),
                        os.environ.get(TOKEN_VARIABLE, ""), base_url=args.url or DEFAULT_URL,
                        policy=RetryPolicy.from_params(section),
                        manifest_every=section.get("manifest_every_objects", 25))
    print(f"pull fritz: {summarise(result)} -> {args.out}")


def _pull_ztf_alerts(args) -> None:
    from ciderlab.data.fritz import read_object_ids
    from ciderlab.data.online import RetryPolicy
    from ciderlab.data.pull import default_cache_dir
    from ciderlab.data.ztf_archive import DEFAULT_URL, pull_ztf_alerts
    from ciderlab.errors import InputError
    from ciderlab.params import load_params

    if not args.night or not args.out:
        raise InputError("`ciderlab pull ztf-alerts` needs --night YYYYMMDD and --out DIR")
    params = load_params(args.params)
    alerts = params.get("alerts") or {}
    tarball, n_packets, _ = pull_ztf_alerts(
        args.night, Path(args.out), Path(args.cache_dir or default_cache_dir() / "ztf-alerts"),
        base_url=args.url or DEFAULT_URL, programid=args.programid,
        object_ids=read_object_ids(args.object_ids) if args.object_ids else None,
        max_packets=args.max_packets, policy=RetryPolicy.from_params(params.get("pull")),
        **{k: alerts[p] for k, p in (("stamp_size", "stamp_size"),
                                     ("normalisation", "stamp_normalisation")) if p in alerts})
    print(f"pull ztf-alerts: {n_packets} alert packets of {tarball.name} -> {args.out}")


def cmd_split(args) -> None:
    from ciderlab.data.dataset import build_dataset
    from ciderlab.data.templates import load_template_bank
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params

    dataset = build_dataset(load_template_bank(args.wheel), load_params(args.params))
    out = Path(args.out)
    save_table(dataset.split, out / "split.csv")
    save_table(dataset.catalogue, out / "catalogue.csv")
    save_table(dataset.duplicates, out / "duplicates.csv")
    save_json(dataset.class_info, out / "classes.json")
    counts = dataset.split["fold"].value_counts().sort_index()
    print(f"split: {len(dataset.split)} objects in {len(dataset.classes)} classes, "
          f"{len(counts)} folds of {counts.min()}-{counts.max()} objects; "
          f"{len(dataset.duplicates)} duplicate names merged; "
          f"dropped classes: {', '.join(dataset.dropped_classes) or 'none'}")


def cmd_realise(args) -> None:
    from ciderlab.data.templates import load_template_bank
    from ciderlab.io import load_table, save_arrays, save_spectra, save_table
    from ciderlab.params import load_params
    from ciderlab.spectra.realise import RealiseConfig, realise_dataset

    params = load_params(args.params)
    cfg = RealiseConfig.from_params(params)
    split_dir = Path(args.split_dir)
    realised, examples = realise_dataset(
        load_template_bank(args.wheel), load_table(split_dir / "catalogue.csv"),
        load_table(split_dir / "split.csv"), cfg, params["realise"].get("max_spectra_per_object"),
        workers=params["realise"].get("workers", 0))
    out = Path(args.out)
    save_spectra(realised, out / "spectra.h5")
    save_table(realised.meta, out / "meta.csv")
    save_arrays(examples, out / "examples.npz")
    print(f"realise: {len(realised.meta)} SEDM-like spectra from "
          f"{realised.meta[['template', 'epoch']].drop_duplicates().shape[0]} templates "
          f"({cfg.preprocess.n_bins} bins, continuum: {cfg.preprocess.continuum}) "
          f"-> {out / 'spectra.h5'}")


def _training_inputs(args, head: str):
    """(params, class_info, spectra, flux, target) for a training stage of ``head``."""
    import torch

    from ciderlab.io import load_json, load_spectra
    from ciderlab.params import load_params
    from ciderlab.training.runs import class_targets

    params = load_params(args.params)
    class_info = load_json(Path(args.split_dir) / "classes.json")
    # Memory-mapped: training reads one batch of rows at a time, never the whole set.
    spectra = load_spectra(args.spectra, lazy=True)
    if head == "classifier":
        return (params, class_info, spectra, spectra.flux_rest,
                class_targets(spectra.meta["label"], class_info["classes"]))
    target = torch.as_tensor(spectra.meta["redshift"].to_numpy(copy=True), dtype=torch.float32)
    return params, class_info, spectra, spectra.flux_obs, target


def _save_trained(trained, path: Path, head: str, class_info: dict, params: dict) -> None:
    """The self-describing checkpoint (with its preprocessing) and the run's history."""
    import pandas as pd

    from ciderlab.io import save_table
    from ciderlab.models.checkpoint import save_checkpoint
    from ciderlab.provenance import git_revision
    from ciderlab.spectra.preprocess import PreprocessConfig
    from ciderlab.training.loop import recipe_dict

    metric = "val_macro_f1" if head == "classifier" else "val_loss"
    best = trained.best_score if head == "classifier" else -trained.best_score
    preprocess = PreprocessConfig.from_params(params)
    save_checkpoint(path / f"{head}.pt", trained.model.state_dict(), trained.model_config,
                    recipe=recipe_dict(trained.recipe), classes=class_info["classes"],
                    split_hash=class_info["split_hash"], git_revision=git_revision(),
                    epoch=trained.best_epoch, best_metric={metric: best},
                    input_frame="rest" if head == "classifier" else "observed",
                    preprocess=preprocess.to_dict(), run_id=trained.run_id)
    save_table(pd.DataFrame(trained.history), path / "history.csv")
    print(f"train_{head}: seed {trained.recipe.seed}, best {metric} {best:.4f} at epoch "
          f"{trained.best_epoch} of {trained.epochs_run} -> {path / f'{head}.pt'}")


def _device(args, params: dict, local_rank: int | None = None):
    """The torch device of ``--device``, else params.yaml's ``device``, made repeatable."""
    from ciderlab.training.device import configure_determinism, resolve_device

    device = resolve_device(args.device or params.get("device", "auto"), local_rank)
    configure_determinism(device)
    return device


@contextmanager
def _runtime(args, params: dict):
    """The training device; under torchrun this process drives GPU ``LOCAL_RANK`` (or a CPU)
    and is in the process group for the block, else it is the only process."""
    from ciderlab.training.distributed import context_from_env, process_group

    context = context_from_env()
    device = _device(args, params, context.local_rank if context.is_distributed else None)
    with process_group(context, device):
        yield device


def _train(args, head: str) -> None:
    """train_classifier (rest frame, labels) or train_redshift (observed frame, z), fixed fold.

    One model per seed in ``<stage>.seeds``: the first is *the* model every later stage uses
    (``<out>/<head>.pt``), the others go to ``<out>/seeds/seed_<seed>/``.
    """
    from ciderlab.data.pull import sha256_of
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.runs import (model_config_from_params, recipe_from_params, scored_rows,
                                        train_seeds)

    stage = f"train_{head}"
    params, class_info, spectra, flux, target = _training_inputs(args, head)
    cfg = recipe_from_params(params, stage)
    seeds = params[stage].get("seeds") or [cfg.seed]
    n_scored = params["realise"]["n_realisations"]
    train_rows = scored_rows(spectra.meta, "train", 10**9)
    val_rows = scored_rows(spectra.meta, "val", n_scored)
    model_cfg = model_config_from_params(params, head, class_info["classes"])
    with _runtime(args, params) as device:
        trained = train_seeds(head, flux, target, train_rows, val_rows, model_cfg, cfg, seeds,
                              sha256_of(args.spectra), state_dir=Path(args.state_dir),
                              device=device,
                              headline=_headline_indices(params, class_info["classes"], head))
        out = Path(args.out)
        if is_main():  # under torchrun rank 0 writes, the other ranks wait at the barrier
            for i, run in enumerate(trained):
                _save_trained(run, out if i == 0 else out / "seeds" / f"seed_{run.recipe.seed}",
                              head, class_info, params)
        barrier()


def cmd_train_classifier(args) -> None:
    _train(args, "classifier")


def cmd_train_redshift(args) -> None:
    _train(args, "redshift")


def cmd_compare_preprocessing(args) -> None:
    from ciderlab.training.runs import model_config_from_params, recipe_from_params
    from ciderlab.data.pull import sha256_of
    from ciderlab.io import load_json, load_spectra, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectra.preprocess import PreprocessConfig
    from ciderlab.training.compare_preprocessing import compare_preprocessing, rank_of_default
    from ciderlab.workers import resolve_workers

    params = load_params(args.params)
    section = params["compare_preprocessing"]
    classes = load_json(Path(args.split_dir) / "classes.json")["classes"]
    table = compare_preprocessing(
        load_spectra(args.spectra, lazy=True), section["options"],
        PreprocessConfig.from_params(params),
        classes, _headline_classes(params, classes),
        model_config_from_params(params, "classifier", classes),
        recipe_from_params(params, "train_classifier", section["train_classifier"]),
        params["realise"]["n_realisations"], sha256_of(args.spectra),
        max_train_spectra=section.get("max_train_spectra"),
        workers=resolve_workers(section["workers"], "compare_preprocessing.workers"))
    out = Path(args.out)
    save_table(table, out / "options.csv")
    best = table.loc[table["val_macro_f1"].idxmax()]
    save_json({"options": table.set_index("option").to_dict("index"),
               "best_option": best["option"], "default": params["preprocess"],
               "default_rank": rank_of_default(table, params["preprocess"])},
              out / "metrics.json")
    print(f"compare_preprocessing: {len(table)} options; best on validation objects "
          f"'{best['option']}' (macro-F1 {best['val_macro_f1']:.3f}) -> {out}")


def cmd_cross_validate(args) -> None:
    from ciderlab.training.runs import model_config_from_params, recipe_from_params
    from ciderlab.data.pull import sha256_of
    from ciderlab.io import load_table, save_table
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.params import load_params
    from ciderlab.training.crossval import cross_validate
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.loop import recipe_dict
    from ciderlab.workers import resolve_workers

    split_dir, out = Path(args.split_dir), Path(args.out)
    folds = load_table(split_dir / "split.csv")
    with _runtime(args, load_params(args.params)) as device:
        for head, checkpoint in (("classifier", args.classifier), ("redshift", args.redshift)):
            params, class_info, spectra, flux, target = _training_inputs(args, head)
            section = params["split"]
            model, described = load_checkpoint(checkpoint, map_location=device)
            cfg = recipe_from_params(params, f"train_{head}")
            # The main model was trained on the fixed fold with this very recipe: it is that fold.
            reuse = ({section["fixed_fold"]: model} if described["recipe"] == recipe_dict(cfg)
                     else {})
            predictions = cross_validate(
                head, flux, target, spectra.meta, folds, section["val_fraction"], section["salt"],
                params["realise"]["n_realisations"],
                model_config_from_params(params, head, class_info["classes"]),
                cfg, sha256_of(args.spectra), trained=reuse, state_dir=Path(args.state_dir),
                device=device,
                workers=resolve_workers(params["cross_validate"]["workers"],
                                        "cross_validate.workers"),
                headline=_headline_indices(params, class_info["classes"], head))
            if is_main():  # under torchrun rank 0 writes, the other ranks wait at the barrier
                for split, name in (("test", f"{head}_predictions.csv"),
                                    ("val", f"{head}_val_predictions.csv")):
                    save_table(predictions[predictions["split"] == split].drop(columns="split"),
                               out / name)
        writer = is_main()
        barrier()
    if writer:
        test = predictions[predictions["split"] == "test"]
        print(f"cross_validate: {test['fold'].nunique()} folds, {len(test)} test spectra each "
              f"predicted once (and each fold's validation spectra) -> {out}")


def cmd_ablation(args) -> None:
    """Each variant of ``ablation.variants`` trained over every cross-validation fold and
    compared with the reference (``cross_validate``'s classifiers) fold by fold."""
    import pandas as pd
    from ciderlab.data.pull import sha256_of
    from ciderlab.evaluation.cross_validation import classification_scores, paired_differences
    from ciderlab.io import load_table, save_json, save_table
    from ciderlab.training.crossval import cross_validate
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.runs import model_config_from_params, recipe_from_params
    from ciderlab.workers import resolve_workers

    params, class_info, spectra, flux, target = _training_inputs(args, "classifier")
    classes, split = class_info["classes"], params["split"]
    headline = _headline_classes(params, classes)
    folds = load_table(Path(args.split_dir) / "split.csv")
    reference = classification_scores(load_table(args.reference), spectra.meta, classes,
                                      headline)
    results, pieces = {}, []
    with _runtime(args, params) as device:
        for name, variant in params["ablation"]["variants"].items():
            predictions = cross_validate(
                "classifier", flux, target, spectra.meta, folds, split["val_fraction"],
                split["salt"], params["realise"]["n_realisations"],
                model_config_from_params(params, "classifier", classes, variant.get("model")),
                recipe_from_params(params, "train_classifier", variant.get("train_classifier")),
                sha256_of(args.spectra), state_dir=Path(args.state_dir), device=device,
                name=f"ablation_{len(results)}",
                workers=resolve_workers(params["cross_validate"]["workers"],
                                        "cross_validate.workers"),
                headline=_headline_indices(params, classes))
            test = predictions[predictions["split"] == "test"].drop(columns="split")
            scores = classification_scores(test, spectra.meta, classes, headline)
            results[name] = {"overrides": {"train_classifier": variant.get("train_classifier")
                                           or {}, "model": variant.get("model") or {}},
                             "scores": scores, "difference": paired_differences(reference, scores)}
            pieces.append(test.assign(variant=name))
        writer = is_main()  # under torchrun rank 0 scores and writes, the others are done
        barrier()
    if not writer:
        return
    out = Path(args.out)
    save_table(pd.concat(pieces, ignore_index=True), out / "predictions.csv")
    save_json({"reference": reference, "variants": results}, out / "metrics.json")
    for name, result in results.items():
        diff = result["difference"]["macro_f1"]
        print(f"ablation: '{name}': macro-F1 {diff['mean']:+.3f} +- {diff['std']:.3f} against "
              f"the reference, paired over {len(diff['values'])} folds -> {out}")


def cmd_evaluate(args) -> None:
    from ciderlab.evaluation.cross_validation import (cross_validation_predictions,
                                                      cross_validation_scores)
    from ciderlab.evaluation.evaluate import (EvaluateConfig, evaluate_test_set, scored_test_set,
                                              seen_against_unseen)
    from ciderlab.io import load_spectra, load_table, save_json, save_table
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.params import load_params
    from ciderlab.spectra.preprocess import PreprocessConfig

    params = load_params(args.params)
    device = _device(args, params)
    classifier, checkpoint = load_checkpoint(args.classifier, map_location=device)
    classes = checkpoint["classes"]
    seed_models = {checkpoint["recipe"]["seed"]: classifier}
    for seed_dir in sorted(Path(args.seeds_dir).glob("seed_*")) if args.seeds_dir else []:
        model, described = load_checkpoint(seed_dir / "classifier.pt", map_location=device)
        seed_models[described["recipe"]["seed"]] = model
    redshift_model, _ = load_checkpoint(args.redshift, map_location=device)
    spectra = load_spectra(args.spectra, lazy=True)  # only the test rows are read
    test, y_true = scored_test_set(spectra, classes, params["realise"]["n_realisations"])
    evaluate_cfg = EvaluateConfig.from_params(params["evaluate"])
    headline = _headline_classes(params, classes)
    metrics, predictions = evaluate_test_set(
        classifier, classes, headline, test, y_true,
        PreprocessConfig.from_dict(checkpoint["preprocess"]), evaluate_cfg, seed_models,
        redshift_model)
    metrics["seen_against_unseen"] = seen_against_unseen(
        classifier, spectra, classes, headline, params["realise"]["n_realisations"],
        evaluate_cfg)
    cv_dir = Path(args.cross_validation)
    class_cv = load_table(cv_dir / "classifier_predictions.csv")
    redshift_cv = load_table(cv_dir / "redshift_predictions.csv")
    metrics["cross_validation"] = cross_validation_scores(class_cv, redshift_cv, spectra.meta,
                                                          classes, headline)
    out = Path(args.out)
    save_table(predictions, out / "predictions.csv")
    save_table(cross_validation_predictions(class_cv, redshift_cv, spectra.meta, classes),
               out / "cross_validation_predictions.csv")
    save_json(metrics, out / "metrics.json")
    cv = metrics["cross_validation"]
    print(f"evaluate: cross-validated over {cv['n_folds']} folds: macro-F1 "
          f"{cv['macro_f1']['mean']:.3f} +- {cv['macro_f1']['std']:.3f}, SN Ia vs non-Ia "
          f"{cv['ia_vs_non_ia_accuracy']['mean']:.3f}, redshift RMS dz/(1+z) "
          f"{cv['redshift_rms']['mean']:.4f}; fixed split: macro-F1 {metrics['macro_f1']:.3f}")


def cmd_reliability(args) -> None:
    import numpy as np

    from ciderlab.classify import embed
    from ciderlab.data.templates import load_template_bank
    from ciderlab.evaluation import reliability as rel
    from ciderlab.evaluation.out_of_class import fit_class_gaussians, ood_scores
    from ciderlab.io import load_json, load_spectra, load_table, save_arrays, save_json, save_table
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.params import load_params
    from ciderlab.spectra.realise import RealiseConfig, realise_spectra
    from ciderlab.training.loop import predict, to_tensor
    from ciderlab.training.runs import scored_rows

    params = load_params(args.params)
    cfg = rel.ReliabilityConfig.from_params(params)
    split_dir, cv_dir, out = Path(args.split_dir), Path(args.cross_validation), Path(args.out)
    classes = load_json(split_dir / "classes.json")["classes"]
    spectra = load_spectra(args.spectra, lazy=True)
    meta, n_scored = spectra.meta, params["realise"]["n_realisations"]
    class_test = load_table(cv_dir / "classifier_predictions.csv")
    calibration, calibrated = rel.calibrate_folds(
        load_table(cv_dir / "classifier_val_predictions.csv"), class_test, meta, classes, cfg)
    interval, interval_table = rel.interval_folds(
        load_table(cv_dir / "redshift_val_predictions.csv"),
        load_table(cv_dir / "redshift_predictions.csv"), meta, cfg)
    classifier, _ = load_checkpoint(args.classifier)
    bank = load_template_bank(args.wheel)
    other = rel.out_of_class_catalogue(load_table(split_dir / "catalogue.csv"),
                                       cfg.out_of_class_types,
                                       params["labels"]["min_coverage_fraction"],
                                       params["realise"].get("max_spectra_per_object"))
    realised = realise_spectra(
        bank.wave_rest_aa, [bank.spectra[i] for i in other["spectrum_index"]],
        other[["object_id", "label", "split", "fold"]],
        [s for s in bank.spectra if s.sn_type == "Galaxy"], RealiseConfig.from_params(params),
        np.full(len(other), cfg.out_of_class_realisations),
        workers=params["realise"].get("workers", 0))
    rows = {split: scored_rows(meta, split, n_scored) for split in ("train", "val", "test")}
    gaussians = fit_class_gaussians(embed(classifier, spectra.flux_rest[rows["train"]]),
                                    rel.labels_of(meta, rows["train"], classes))
    scores = {}
    for name, flux in (("val", spectra.flux_rest[rows["val"]]),
                       ("test", spectra.flux_rest[rows["test"]]), ("out", realised.flux_rest)):
        scores[name] = ood_scores(predict(classifier, to_tensor(flux)).numpy(),
                                  embed(classifier, flux), gaussians)
    halves = rel.out_of_class_halves(realised.meta["object_id"], params["split"]["salt"])
    ood, ood_table = rel.none_of_these(scores["val"], scores["test"], scores["out"], halves, cfg)
    fixed = params["split"]["fixed_fold"]
    settings = rel.shipped_settings(calibration["temperature_by_fold"][fixed], ood,
                                    interval["by_fold"][fixed], cfg)
    out_types = realised.meta.assign(half=halves).groupby("label")["object_id"].nunique()
    settings["none_of_these"]["gaussians"] = "gaussians.npz"  # beside reliability.json
    save_arrays(gaussians, out / "gaussians.npz")
    save_json(settings, out / "reliability.json")
    save_table(calibrated, out / "calibrated_predictions.csv")
    for name, table in rel.calibration_tables(class_test, calibrated, classes, cfg).items():
        save_table(table, out / f"{name}.csv")
    save_table(interval_table, out / "redshift_intervals.csv")
    save_table(ood_table, out / "out_of_class_scores.csv")
    save_json({"calibration": calibration, "none_of_these": ood, "redshift_interval": interval,
               "out_of_class_objects": out_types.to_dict()}, out / "metrics.json")
    print(f"reliability: ECE {calibration['ece_before']:.3f} -> {calibration['ece_after']:.3f} "
          f"(cross-validated); none of these ({ood['score']}) AUROC {ood['auroc']:.3f}; "
          f"{100 * cfg.interval_level:.0f}% redshift intervals cover "
          f"{100 * interval['coverage']:.1f}% -> {out}")


def _installed_snid_sage(args) -> Path:
    """SNID-SAGE installed from ``--wheel`` into ``--install-dir`` (default: the user cache)."""
    from ciderlab.baselines.snid_sage import install_snid_sage
    from ciderlab.data.pull import default_cache_dir

    return install_snid_sage(args.wheel, Path(args.install_dir or default_cache_dir())
                             / "snid_sage-0.9.0")


def cmd_snid_real_spectra(args) -> None:
    import tempfile

    from ciderlab.baselines.real_files import run_on_files
    from ciderlab.data.labels import PAPER_CLASSES
    from ciderlab.evaluation.real_spectra import load_truth
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.workers import resolve_workers

    params = load_params(args.params)
    section = params["snid_real_spectra"]
    truth = load_truth(args.truth).head(section["max_files"] or None)
    install_dir = _installed_snid_sage(args)
    with tempfile.TemporaryDirectory(prefix="ciderlab-snid-real-") as work:
        table, timing = run_on_files(
            truth, Path(args.truth).parent, install_dir, Path(work), section["redshift_min"],
            section["redshift_max"], PAPER_CLASSES,
            resolve_workers(section["workers"], "snid_real_spectra.workers"))
    out = Path(args.out)
    save_table(table, out / "answers.csv")
    save_json(timing, out / "timing.json")
    print(f"snid_real_spectra: {truth.shape[0]} real files matched with and without their "
          f"catalogue redshift -> {out}")


def cmd_real_spectra(args) -> None:
    from ciderlab.classify import load_models
    from ciderlab.evaluation.domain_gap import realism_breakdown
    from ciderlab.evaluation.real_spectra import load_truth, real_set_scores, score_files
    from ciderlab.io import load_spectra, load_table, save_arrays, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.training.runs import scored_rows

    params = load_params(args.params)
    truth = load_truth(args.truth).head(params["real_spectra"]["max_files"] or None)
    models = load_models(args.classifier, args.redshift, params, args.reliability)
    ours, inputs = score_files(truth, Path(args.truth).parent, models)
    snid = load_table(args.snid)
    trained = list(models.classifier[1]["classes"])
    metrics = real_set_scores(ours, snid, trained, _headline_classes(params, trained))
    spectra = load_spectra(args.spectra, lazy=True)
    test_rows = scored_rows(spectra.meta, "test", params["realise"]["n_realisations"])
    metrics["realism_auc"] = realism_breakdown(inputs["flux_rest"], inputs["covered_rest"],
                                               spectra.flux_rest[test_rows],
                                               spectra.covered_rest[test_rows])
    out = Path(args.out)
    save_table(ours, out / "predictions.csv")
    save_arrays(inputs, out / "inputs.npz")
    save_json(metrics, out / "metrics.json")
    cat, pred = metrics["ours"]["catalogue"], metrics["ours"]["predicted"]
    print(f"real_spectra: {metrics['n_files']} files ({metrics['n_unreadable']} unreadable); "
          f"type accuracy {cat['accuracy']:.2f} with the catalogue redshift, "
          f"{pred['accuracy']:.2f} with the predicted one (median |dz|/(1+z) "
          f"{pred['median_dz']:.4f}) -> {out}")


def cmd_baselines(args) -> None:
    import tempfile

    from ciderlab.baselines.compare import compare_with_snid_sage
    from ciderlab.data.templates import load_template_bank
    from ciderlab.io import load_spectra, save_arrays, save_json, save_table
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.params import load_params
    from ciderlab.spectra.realise import RealiseConfig
    from ciderlab.workers import resolve_workers

    params = load_params(args.params)
    section = params["baselines"]
    spectra = load_spectra(args.spectra, lazy=True)  # only the compared rows are read
    # Spectra realised before flux_raw_obs existed are rebuilt from the bank's templates.
    has_raw = getattr(spectra, "flux_raw_obs", None) is not None
    bank = None if has_raw else load_template_bank(args.wheel)
    classifier, checkpoint = load_checkpoint(args.classifier)
    redshift_model, _ = load_checkpoint(args.redshift)
    install_dir = _installed_snid_sage(args)
    with tempfile.TemporaryDirectory(prefix="ciderlab-snid-") as work:
        table, timing, metrics, arrays = compare_with_snid_sage(
            spectra, classifier, redshift_model, checkpoint["classes"],
            RealiseConfig.from_params(params), install_dir, work, section["n_spectra"],
            section["seed"], bank=bank, workers=resolve_workers(section["workers"], "baselines.workers"))
    out = Path(args.out)
    save_table(table, out / "comparison.csv")
    save_arrays(arrays, out / "spectra.npz")
    save_json(timing, out / "timing.json")
    save_json(metrics, out / "metrics.json")
    net, snid = metrics["spectranet"], metrics["snid_sage"]
    print(f"baselines: {len(table)} test spectra, accuracy SpectraNet {net['accuracy']:.3f} vs "
          f"SNID-SAGE {snid['accuracy']:.3f}; on 1 thread each {net['spectra_per_second']:.0f} "
          f"vs {snid['spectra_per_second']:.3f} spectra/s -> {out}")


def cmd_measured(args) -> None:
    from ciderlab import measured
    from ciderlab.errors import InputError
    from ciderlab.provenance import git_revision

    root = Path(args.root)
    if args.write:
        readme = measured.write(root, args.results, args.commit or git_revision(root))
        print(f"measured: {root / measured.SNAPSHOT} and the table in {readme} written from "
              f"{args.results}")
        return
    if not measured.is_current(root):
        raise InputError(f"{root / 'README.md'}: its measured table is not what "
                         f"{measured.SNAPSHOT} and {measured.TIMINGS} say; run "
                         "`ciderlab measured --write` after a full `make`")
    print("measured: the README's table is what the records say")


def cmd_export(args) -> None:
    from ciderlab.data.pull import sha256_of
    from ciderlab.io import atomic_path, save_json
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.models.export import export_checkpoint

    if not args.onnx:
        raise ValueError("name the format to export to: --onnx (the only one so far)")
    exported = {}
    for head, path in (("classifier", args.classifier), ("redshift", args.redshift)):
        model, payload = load_checkpoint(path)
        if model.config.head != head:
            raise ValueError(f"{path}: holds a {model.config.head} model; pass the {head}'s "
                             f"checkpoint to --{head}")
        exported[head] = export_checkpoint(model, payload, sha256_of(path), str(path))
    out = Path(args.out)  # written only once both models exported and checked
    for head, (proto, description) in exported.items():
        with atomic_path(out / f"{head}.onnx") as tmp:
            tmp.write_bytes(proto.SerializeToString())
        save_json(description, out / f"{head}.json")
    diffs = {h: max(d["check"]["max_abs_diff"].values()) for h, (_, d) in exported.items()}
    print(f"export: classifier and redshift model -> ONNX opset "
          f"{exported['classifier'][1]['opset']} with JSON sidecars in {out} (ONNX Runtime vs "
          f"torch: max |diff| {diffs['classifier']:.1e} and {diffs['redshift']:.1e})")


def cmd_classify(args) -> None:
    """Classify spectrum files; a file that fails is reported and the others still run.

    Output (stdout, or ``--out``): one line per file (text), ``--csv`` or ``--json``; only the
    files that were classified appear, and nothing is written when none was. Any failure makes
    the exit status 1 after the rest are done.
    """
    import json

    from tqdm import tqdm

    from ciderlab.classify import classifications_table, classify_file, load_models
    from ciderlab.errors import InputError
    from ciderlab.io import atomic_path
    from ciderlab.params import load_params

    params = load_params(args.params) if Path(args.params).exists() else None
    reliability = args.reliability
    if reliability == DEFAULT_RELIABILITY and not Path(reliability).exists():
        reliability = None  # not built yet: uncalibrated answers, said in the output
    models = load_models(args.classifier, args.redshift_model, params, reliability)
    results, failures = {}, []
    for path in tqdm(args.files, desc="classify", unit="file", disable=len(args.files) < 2,
                     file=sys.stderr):
        try:
            spectrum, result = classify_file(path, models, redshift=args.redshift)
        except InputError as error:
            failures.append(str(error))
            if len(args.files) > 1:
                tqdm.write(f"ciderlab classify: error: {error}", file=sys.stderr)
            continue
        results[path] = result
        if args.plot:
            from ciderlab.evaluation.figures.classify import fig_classified_spectrum

            fig = fig_classified_spectrum(spectrum.wave_aa, spectrum.flux, result, Path(path).name)
            with atomic_path(Path(args.plot) / f"{Path(path).name}.png") as tmp:
                fig.savefig(tmp, format="png", dpi=100)
    if not results:
        raise InputError(failures[0] if len(failures) == 1 else
                         f"none of the {len(failures)} files could be classified (see above)")
    if args.json:
        text = json.dumps([{"file": name, **r.to_dict()} for name, r in results.items()],
                          indent=2) + "\n"
    elif args.csv:
        text = classifications_table(results).to_csv(index=False)
    else:
        text = "".join(
            f"{name}: z = {r.redshift:.3f} ({r.redshift_source}"
            + (f", {r.redshift_interval[0]:.3f}-{r.redshift_interval[1]:.3f}"
               if r.redshift_interval else "") + "); "
            + ("none of the trained classes; nearest: " if r.none_of_these else "")
            + ", ".join(f"{c} {p:.2f}" for c, p in r.top)
            + f"; S/N {r.snr:.0f}, coverage {100 * r.coverage:.0f}%\n"
            + "".join(f"  warning: {w}\n" for w in r.warnings) for name, r in results.items())
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(text)
    else:
        sys.stdout.write(text)
    if failures:
        raise InputError(f"{len(failures)} of {len(args.files)} files could not be classified "
                         f"(see above); the other {len(results)} were"
                         + (f" -> {args.out}" if args.out else ""))
    if args.out:
        print(f"classify: {len(results)} spectra classified -> {args.out}")


def cmd_alerts(args) -> None:
    from tqdm import tqdm

    from ciderlab.alerts.archive import iter_packets, read_archive_alerts
    from ciderlab.alerts.tables import (packets_to_tables, save_alert_tables,
                                        summarise_alert_tables)
    from ciderlab.io import save_json
    from ciderlab.params import load_params

    section = load_params(args.params)["alerts"]
    alert_files = read_archive_alerts(args.archive, section["files"])
    packets = tqdm(iter_packets(alert_files), total=sum(t.num_rows for t in alert_files.values()),
                   desc="alerts", unit="alert")
    tables = packets_to_tables(packets, stamp_size=section["stamp_size"],
                               normalisation=section["stamp_normalisation"])
    out = Path(args.out)
    save_alert_tables(tables, out)
    summary = summarise_alert_tables(tables, section["min_objects_per_class"])
    save_json(summary, out / "summary.json")
    print(f"alerts: {summary['alerts']} alerts of {summary['objects']} objects, "
          f"{summary['detections']} detections + {summary['upper_limits']} upper limits, "
          f"{summary['stamps']} stamps ({summary['edge_of_chip_alerts']} alerts at a chip edge, "
          f"{summary['stamps_with_nan']} stamps with NaN); trained classes: "
          f"{', '.join(summary['trained_classes']) or 'none'} -> {out}")


def cmd_train_multimodal(args) -> None:
    import time

    import torch

    from ciderlab.alerts.tables import load_alert_tables
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.training.multimodal import MultimodalConfig, train_multimodal

    started = time.perf_counter()
    params = load_params(args.params)
    section = params["train_multimodal"]
    if section.get("torch_threads"):
        torch.set_num_threads(section["torch_threads"])
    result = train_multimodal(load_alert_tables(args.alerts),
                              MultimodalConfig.from_params(section),
                              params["alerts"]["min_objects_per_class"],
                              state_dir=Path(args.state_dir) / "train_multimodal")
    out = Path(args.out)
    save_table(result.predictions, out / "predictions.csv")
    save_table(result.routing, out / "routing.csv")
    save_json(result.metrics, out / "metrics.json")
    scores = ", ".join(f"{mode} {m['macro_f1']['mean']:.2f} ± {m['macro_f1']['std']:.2f}"
                       for mode, m in result.metrics["modes"].items())
    print(f"train_multimodal: macro-F1 over {result.metrics['n_folds']} folds: {scores} "
          f"({time.perf_counter() - started:.0f} s) -> {out}")



def cmd_train_galspecnet(args) -> None:
    """GalSpecNet cross-validated on SpectraNet's realised spectra, folds and scored rows."""
    import time
    from dataclasses import asdict

    import torch

    from ciderlab.data.pull import sha256_of
    from ciderlab.errors import InputError
    from ciderlab.evaluation.cross_validation import classification_scores
    from ciderlab.io import load_table, save_json, save_table
    from ciderlab.models.galspecnet import GalSpecNet, GalSpecNetConfig
    from ciderlab.provenance import fingerprint
    from ciderlab.spectra.galspecnet_input import GalSpecInputConfig, GalSpecInputs
    from ciderlab.training.crossval import cross_validate
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.loop import TrainConfig
    from ciderlab.workers import resolve_workers

    started = time.perf_counter()
    params, class_info, spectra, _, target = _training_inputs(args, "classifier")
    section, split = params["train_galspecnet"], params["split"]
    if section.get("torch_threads"):
        torch.set_num_threads(section["torch_threads"])
    if spectra.flux_raw_obs is None:
        raise InputError(f"{args.spectra}: holds no raw observations (flux_raw_obs), which "
                         "GalSpecNet reads; re-run `ciderlab realise`")
    classes = class_info["classes"]
    input_cfg = GalSpecInputConfig.from_params(section)
    inputs = GalSpecInputs(spectra.flux_raw_obs, spectra.covered_obs, spectra.wave_obs_aa,
                           input_cfg)
    model_cfg = GalSpecNetConfig(n_bins=inputs.shape[1], n_outputs=len(classes),
                                 **section["model"])
    recipe = TrainConfig.from_params(section)
    with _runtime(args, params) as device:
        # The data id joins the input grid to the spectra: a state file resumes the same inputs.
        predictions = cross_validate(
            "classifier", inputs, target, spectra.meta,
            load_table(Path(args.split_dir) / "split.csv"), split["val_fraction"], split["salt"],
            params["realise"]["n_realisations"], model_cfg, recipe,
            fingerprint(sha256_of(args.spectra), asdict(input_cfg)),
            state_dir=Path(args.state_dir), device=device, build_model=GalSpecNet,
            name="galspecnet",
            workers=resolve_workers(params["cross_validate"]["workers"], "cross_validate.workers"),
            headline=_headline_indices(params, classes))
        predictions = predictions[predictions["split"] == "test"].reset_index(drop=True)
        writer = is_main()
        barrier()
    if not writer:
        return
    metrics = classification_scores(predictions, spectra.meta, classes,
                                     _headline_classes(params, classes))
    metrics["model"], metrics["recipe"] = model_cfg.to_dict(), asdict(recipe)
    metrics["n_parameters"] = sum(p.numel() for p in GalSpecNet(model_cfg).parameters())
    out = Path(args.out)
    save_table(predictions, out / "predictions.csv")
    save_json(metrics, out / "metrics.json")
    print(f"train_galspecnet: cross-validated over {metrics['n_folds']} folds: macro-F1 "
          f"{metrics['macro_f1']['mean']:.3f} +- {metrics['macro_f1']['std']:.3f}, accuracy "
          f"{metrics['accuracy']['mean']:.3f}, SN Ia vs non-Ia "
          f"{metrics['ia_vs_non_ia_accuracy']['mean']:.3f} ({time.perf_counter() - started:.0f} s)"
          f" -> {out}")


def _headline_classes(params: dict, classes: list[str]) -> list[str]:
    """The classes of every headline score: all but labels.separate_classes (AGN)."""
    from ciderlab.evaluation.metrics import headline_classes

    return headline_classes(classes, params["labels"]["separate_classes"])


def _headline_indices(params: dict, classes: list[str], head: str = "classifier"):
    """Indices into ``classes`` of the headline classes (a classifier's early stopping
    scores them), or None for the redshift model."""
    if head != "classifier":
        return None
    return [classes.index(c) for c in _headline_classes(params, classes)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciderlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    pull = sub.add_parser("pull", help="download data: the raw archives (SPEC §3, default), "
                          "Fritz sources or a night of public ZTF alerts (SPEC §3.3)")
    pull.add_argument("source", nargs="?", default="raw", choices=tuple(PULL_OPTIONS),
                      help="raw: the pinned raw archives into data/raw (default); fritz: "
                      "SkyPortal sources (token in $FRITZ_TOKEN); ztf-alerts: one archive night")
    pull.add_argument("--out", default=None, help="output folder (raw: default data/raw)")
    pull.add_argument("--cache-dir", type=Path, default=None,
                      help="download cache (default: $CIDERLAB_CACHE_DIR or ~/.cache/ciderlab)")
    pull.add_argument("--index-url", default=None, help="raw: package index to download from")
    pull.add_argument("--objects", help="fritz: a file of object ids (one a line) or id,id,...")
    pull.add_argument("--url", default=None, help="fritz: the SkyPortal instance (default "
                      "https://fritz.science); ztf-alerts: the archive folder (default "
                      "https://ztf.uw.edu/alerts/public)")
    pull.add_argument("--night", help="ztf-alerts: UTC night, YYYYMMDD")
    pull.add_argument("--programid", default="public", help="ztf-alerts: tarball family")
    pull.add_argument("--object-ids", help="ztf-alerts: keep only these objects (file or id,id)")
    pull.add_argument("--max-packets", type=int, default=None,
                      help="ztf-alerts: stop after this many packets")
    pull.add_argument("--params", default="params.yaml",
                      help="fritz, ztf-alerts: retries and timeouts from its `pull` section")
    pull.set_defaults(func=cmd_pull)

    def stage(name, helptext, func, *paths):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--params", default="params.yaml")
        for flag, default in paths:
            p.add_argument(flag, default=default)
        p.set_defaults(func=func)

    stage("split", "objects, merged duplicates, folds and the fixed split", cmd_split,
          ("--wheel", DEFAULT_WHEEL), ("--out", "results/split"))
    stage("realise", "templates -> SEDM-like spectra", cmd_realise,
          ("--wheel", DEFAULT_WHEEL), ("--split-dir", "results/split"),
          ("--out", "results/realise"))
    stage("train_classifier", "train the SpectraNet classifier", cmd_train_classifier,
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--state-dir", "results/.resume"), ("--out", "results/train_classifier"),
          ("--device", None))
    stage("train_redshift", "train the SpectraNet redshift model", cmd_train_redshift,
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--state-dir", "results/.resume"), ("--out", "results/train_redshift"),
          ("--device", None))
    stage("compare_preprocessing", "continuum removal options scored on validation objects",
          cmd_compare_preprocessing, ("--spectra", "results/realise/spectra.h5"),
          ("--split-dir", "results/split"), ("--out", "results/compare_preprocessing"))
    stage("cross_validate", "k-fold cross-validation by object: every object tested once",
          cmd_cross_validate, ("--spectra", "results/realise/spectra.h5"),
          ("--split-dir", "results/split"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--redshift", "results/train_redshift/redshift.pt"),
          ("--state-dir", "results/.resume"), ("--out", "results/cross_validate"),
          ("--device", None))
    stage("evaluate", "score the test objects and the cross-validated predictions", cmd_evaluate,
          ("--spectra", "results/realise/spectra.h5"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--seeds-dir", "results/train_classifier/seeds"),
          ("--redshift", "results/train_redshift/redshift.pt"),
          ("--cross-validation", "results/cross_validate"), ("--out", "results/evaluate"),
          ("--device", None))
    stage("ablation", "ablation.variants: the classifier with switches flipped, over every "
          "fold, paired with the reference", cmd_ablation,
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--reference", "results/cross_validate/classifier_predictions.csv"),
          ("--state-dir", "results/.resume"), ("--out", "results/ablation"),
          ("--device", None))
    stage("baselines", "SNID-SAGE template matching on the same test spectra", cmd_baselines,
          ("--wheel", DEFAULT_WHEEL), ("--spectra", "results/realise/spectra.h5"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--redshift", "results/train_redshift/redshift.pt"),
          ("--install-dir", None), ("--out", "results/baselines"))
    stage("reliability", "calibration, 'none of these' and redshift intervals, fitted on "
          "validation objects", cmd_reliability, ("--wheel", DEFAULT_WHEEL),
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--cross-validation", "results/cross_validate"), ("--out", "results/reliability"))
    stage("snid_real_spectra", "SNID-SAGE on the real spectra, with and without the redshift",
          cmd_snid_real_spectra, ("--wheel", DEFAULT_WHEEL),
          ("--truth", "real_spectra/truth.csv"), ("--install-dir", None),
          ("--out", "results/snid_real_spectra"))
    stage("real_spectra", "the final models on real observed spectra", cmd_real_spectra,
          ("--truth", "real_spectra/truth.csv"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--redshift", "results/train_redshift/redshift.pt"),
          ("--reliability", DEFAULT_RELIABILITY), ("--spectra", "results/realise/spectra.h5"),
          ("--snid", "results/snid_real_spectra/answers.csv"), ("--out", "results/real_spectra"))
    stage("alerts", "real ZTF alert packets -> light curves, metadata, cutouts", cmd_alerts,
          ("--archive", "data/raw/fink-science-7.4.0.tar.gz"), ("--out", "results/alerts"))
    stage("train_multimodal", "AppleCiDEr's models cross-validated on the alerts, per mode",
          cmd_train_multimodal, ("--alerts", "results/alerts"),
          ("--state-dir", "results/.resume"), ("--out", "results/train_multimodal"))
    stage("train_galspecnet", "AppleCiDEr I's spectra CNN cross-validated on SpectraNet's folds",
          cmd_train_galspecnet, ("--spectra", "results/realise/spectra.h5"),
          ("--split-dir", "results/split"), ("--state-dir", "results/.resume"),
          ("--out", "results/train_galspecnet"), ("--device", None))

    # Not a DVC stage: a deliverable for alert brokers, run on demand after training.
    measured = sub.add_parser("measured", help="check (or --write) the README's measured table "
                              "against the results and records")
    measured.add_argument("--write", action="store_true",
                          help="snapshot --results into benchmarks/results/measured.json and "
                               "rewrite the README's table")
    measured.add_argument("--results", default="results")
    measured.add_argument("--root", default=".", help="the checkout (README.md, benchmarks/)")
    measured.add_argument("--commit", default=None,
                          help="the commit the results were made at (default: the checkout's)")
    measured.set_defaults(func=cmd_measured)
    export = sub.add_parser("export", help="the classifier and redshift model as ONNX + JSON")
    export.add_argument("--onnx", action="store_true", help="export to ONNX (the only format)")
    export.add_argument("--classifier", default="results/train_classifier/classifier.pt")
    export.add_argument("--redshift", default="results/train_redshift/redshift.pt")
    export.add_argument("--out", default="results/export")
    export.set_defaults(func=cmd_export)
    classify = sub.add_parser("classify", help="classify your own spectrum files (ASCII, FITS, "
                              "SkyPortal JSON)")
    classify.add_argument("files", nargs="+", help="spectrum files")
    classify.add_argument("--redshift", type=float, default=None,
                          help="known redshift for every file (default: predicted)")
    classify.add_argument("--classifier", default="results/train_classifier/classifier.pt")
    classify.add_argument("--redshift-model", default="results/train_redshift/redshift.pt")
    classify.add_argument("--params", default="params.yaml",
                          help="for the training ranges the warnings compare with (optional)")
    classify.add_argument("--reliability", default=DEFAULT_RELIABILITY,
                          help="calibration, 'none of these' threshold and redshift intervals "
                          "(the reliability stage's; used when present)")
    output = classify.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON instead of text lines")
    output.add_argument("--csv", action="store_true", help="CSV instead of text lines")
    classify.add_argument("--out", default=None, help="write the answers here (default: stdout)")
    classify.add_argument("--plot", default=None, help="write one PNG per file into this folder")
    classify.set_defaults(func=cmd_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CiderlabError, OSError, ValueError, RuntimeError) as error:
        print(f"ciderlab {args.command}: error: {_message(error)}", file=sys.stderr)
        return 1
    return 0


def _message(error: Exception) -> str:
    """The error's text; the system's own (e.g. "[Errno 21] Is a directory: 'x'") reworded."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return (f"{error.filename}: {error.strerror.lower()}; pass a readable file there "
                "(check the path and its permissions)")
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
