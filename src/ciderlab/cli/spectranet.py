"""SpectraNet's training and evaluation stages: ``train_classifier``, ``train_redshift``,
``compare_preprocessing``, ``cross_validate``, ``ablation``, ``evaluate``, ``catalogue_cv``."""

from __future__ import annotations

import time
from pathlib import Path

from ciderlab import paths


def _inputs(args):
    """(params, class_info, realised spectra memory-mapped, their checksum) of a stage."""
    from ciderlab.io import load_json, load_spectra, sha256_of
    from ciderlab.params import load_params

    # Memory-mapped: training reads one batch of rows at a time, never the whole set.
    return (load_params(args.params), load_json(Path(args.split_dir) / "classes.json"),
            load_spectra(args.spectra, lazy=True), sha256_of(args.spectra))


def _train(args, name: str) -> None:
    """train_classifier / train_redshift: one model per seed of ``<stage>.seeds``; the first is
    *the* model (``<out>/<head>.pt``), the others go to ``<out>/seeds/seed_<seed>/``."""
    from ciderlab.cli.common import runtime
    from ciderlab.spectranet.train import save_trained, train_fixed_fold
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.heads import HEADS

    head = HEADS[name]
    params, class_info, spectra, data_hash = _inputs(args)
    with runtime(args, params) as device:
        trained = train_fixed_fold(head, params, class_info["classes"], spectra, data_hash,
                                   Path(args.state_dir), device)
        if is_main():  # under torchrun rank 0 writes, the other ranks wait at the barrier
            for i, run in enumerate(trained):
                folder = Path(args.out) / ("" if i == 0 else f"seeds/seed_{run.recipe.seed}")
                best = save_trained(run, folder / f"{name}.pt", head, class_info, params,
                                    data_hash, history=folder / "history.csv")
                print(f"train_{name}: seed {run.recipe.seed}, best {head.metric} {best:.4f} at "
                      f"epoch {run.best_epoch} of {run.epochs_run} -> {folder / f'{name}.pt'}")
        barrier()


def cmd_train_classifier(args) -> None:
    _train(args, "classifier")


def cmd_train_redshift(args) -> None:
    _train(args, "redshift")


def cmd_compare_preprocessing(args) -> None:
    from ciderlab.io import save_json, save_table
    from ciderlab.spectranet.compare_preprocessing import compare_stage
    from ciderlab.spectranet.real_spectra import load_truth

    params, class_info, spectra, data_hash = _inputs(args)
    out = Path(args.out)
    real = None if args.truth is None else (load_truth(args.truth), Path(args.truth).parent)
    table, summary = compare_stage(params, class_info["classes"], spectra, data_hash,
                                   out / "models", real)
    save_table(table, out / "options.csv")
    save_json(summary, out / "metrics.json")
    best = summary["options"][summary["best_option"]]
    print(f"compare_preprocessing: {len(table)} options; best on validation objects "
          f"'{summary['best_option']}' (macro-F1 {best['val_macro_f1']:.3f}); chosen "
          f"'{summary['chosen_option']}' -> {out}")


def cmd_cross_validate(args) -> None:
    """One model per fold for the head ``--head``, its predictions and its fold models."""
    from ciderlab.cli.common import runtime
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.io import load_table, save_table
    from ciderlab.spectranet.train import cross_validate_head
    from ciderlab.training.distributed import barrier, is_main
    from ciderlab.training.heads import HEADS

    head = HEADS[args.head]
    params, class_info, spectra, data_hash = _inputs(args)
    out = Path(args.out or paths.CROSS_VALIDATE[head.name])
    with runtime(args, params) as device:
        # The main model is the fixed fold's when its run matches that fold's exactly.
        model, described = load_checkpoint(args.model or paths.MODEL[head.name],
                                           map_location=device)
        predictions = cross_validate_head(
            head, params, class_info, spectra, load_table(Path(args.split_dir) / "split.csv"),
            data_hash, Path(args.state_dir), out / "models", device,
            reusable={described["run_id"]: model})
        if is_main():  # under torchrun rank 0 writes, the other ranks wait at the barrier
            for split, name in (("test", "predictions.csv"), ("val", "val_predictions.csv")):
                save_table(predictions[predictions["split"] == split].drop(columns="split"),
                           out / name)
            test = predictions[predictions["split"] == "test"]
            print(f"cross_validate {head.name}: {test['fold'].nunique()} folds, {len(test)} test "
                  f"spectra each predicted once (and each fold's validation spectra) -> {out}")
        barrier()


def cmd_ablation(args) -> None:
    """Each variant of ``ablation.variants`` over every fold, paired with the reference."""
    from ciderlab.cli.common import runtime
    from ciderlab.io import load_table, save_json, save_table
    from ciderlab.spectranet.ablation import run_ablation
    from ciderlab.training.distributed import barrier, is_main

    params, class_info, spectra, data_hash = _inputs(args)
    out = Path(args.out)
    with runtime(args, params) as device:
        predictions, metrics, reused = run_ablation(
            params, class_info, spectra, load_table(Path(args.split_dir) / "split.csv"),
            load_table(args.reference), data_hash, Path(args.state_dir), out / "models", device)
        writer = is_main()  # under torchrun rank 0 writes, the others are done
        barrier()
    if not writer:
        return
    save_table(predictions, out / "predictions.csv")
    save_json(metrics, out / "metrics.json")
    for name, result in metrics["variants"].items():
        diff = result["difference"]["macro_f1"]
        trained = len(diff["values"]) - len(reused[name])
        print(f"ablation: '{name}': macro-F1 {diff['mean']:+.3f} +- {diff['std']:.3f} against "
              f"the reference, paired over {len(diff['values'])} folds ({trained} trained, "
              f"{len(reused[name])} reused from the last run) -> {out}")


def cmd_evaluate(args) -> None:
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.device import stage_device
    from ciderlab.io import load_spectra, load_table, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.evaluate import evaluate_stage

    params = load_params(args.params)
    device = stage_device(args.device, params)
    classifier, checkpoint = load_checkpoint(args.classifier, map_location=device)
    seed_models = {checkpoint["recipe"]["seed"]: classifier}
    for seed_dir in sorted(Path(args.seeds_dir).glob("seed_*")) if args.seeds_dir else []:
        model, described = load_checkpoint(seed_dir / "classifier.pt", map_location=device)
        seed_models[described["recipe"]["seed"]] = model
    redshift_model, _ = load_checkpoint(args.redshift, map_location=device)
    metrics, predictions, cv_predictions = evaluate_stage(
        params, classifier, checkpoint, seed_models, redshift_model,
        load_spectra(args.spectra, lazy=True),  # only the test rows are read
        load_table(Path(args.classifier_cv) / "predictions.csv"),
        load_table(Path(args.redshift_cv) / "predictions.csv"))
    out = Path(args.out)
    save_table(predictions, out / "predictions.csv")
    save_table(cv_predictions, out / "cross_validation_predictions.csv")
    save_json(metrics, out / "metrics.json")
    cv = metrics["cross_validation"]
    print(f"evaluate: cross-validated over {cv['n_folds']} folds: macro-F1 "
          f"{cv['macro_f1']['mean']:.3f} +- {cv['macro_f1']['std']:.3f}, SN Ia vs non-Ia "
          f"{cv['ia_vs_non_ia_accuracy']['mean']:.3f}, redshift RMS dz/(1+z) "
          f"{cv['redshift_rms']['mean']:.4f}; fixed split: macro-F1 {metrics['macro_f1']:.3f}")


def cmd_catalogue_cv(args) -> None:
    """SpectraNet cross-validated over a catalogue's objects, from scratch and fine-tuned."""
    import pandas as pd

    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.spectranet.catalogue_cv import cross_validate_catalogue

    started = time.perf_counter()
    params = load_params(args.params)
    out = Path(args.out)
    result = cross_validate_catalogue(args.catalogue, args.classifier, params,
                                      state_dir=Path(args.state_dir), models_dir=out / "models")
    save_table(result.predictions, out / "predictions.csv")
    save_table(pd.DataFrame({"file": list(result.skipped),
                             "reason": list(result.skipped.values())}), out / "skipped.csv")
    save_json(result.metrics, out / "metrics.json")
    scores = "; ".join(f"{start}: accuracy {s['accuracy']:.2f}, macro-F1 {s['macro_f1']:.2f}"
                       for start, s in result.metrics["starts"].items())
    print(f"catalogue_cv: {result.metrics['n_spectra']} spectra of {result.metrics['n_objects']} "
          f"objects in {len(result.metrics['classes'])} classes over "
          f"{result.metrics['n_folds']} folds ({len(result.skipped)} left out): {scores} "
          f"({time.perf_counter() - started:.0f} s) -> {out}")
