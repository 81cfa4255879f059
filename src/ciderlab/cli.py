"""The one command-line interface: ``ciderlab <stage>``, one subcommand per DVC stage.

Each subcommand reads its inputs, calls the library, writes its outputs and prints one line.
Paths come from the command line (dvc.yaml); numbers from params.yaml.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_WHEEL = "data/raw/snid_sage-0.9.0-py3-none-any.whl"


def _classes(params: dict) -> tuple[str, ...]:
    from ciderlab.data.labels import EXTENDED_CLASSES

    classes = tuple(params["labels"]["classes"])
    if params["labels"].get("extended_taxonomy"):
        classes += tuple(c for c in EXTENDED_CLASSES if c not in classes)
    return classes


def cmd_pull(args) -> None:
    from ciderlab.data.pull import pull_raw_data

    paths = pull_raw_data(Path(args.out), cache_dir=args.cache_dir, index_url=args.index_url)
    total = sum(p.stat().st_size for p in paths)
    print(f"pull: {len(paths)} archives verified in {args.out} ({total / 1e6:.1f} MB)")


def cmd_split(args) -> None:
    from ciderlab.data.catalogue import build_catalogue, drop_rare_classes
    from ciderlab.io import save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.data.split import check_disjoint, split_objects
    from ciderlab.data.templates import load_template_bank
    from ciderlab.training.loop import fingerprint

    params = load_params(args.params)
    grid, realise, labels = params["grid"], params["realise"], params["labels"]
    classes = _classes(params)
    window = (grid["obs_wave_min_aa"] / (1 + realise["redshift_max"]),
              grid["obs_wave_max_aa"] / (1 + realise["redshift_min"]))
    bank = load_template_bank(args.wheel)
    catalogue = build_catalogue(bank, classes, window, labels["min_coverage_fraction"])
    catalogue, dropped = drop_rare_classes(catalogue, classes, labels["min_objects"])
    usable = catalogue[catalogue["reason"] == ""]
    conflicting = usable.groupby("object_id")["label"].nunique()
    if (conflicting > 1).any():
        raise ValueError(f"objects with two labels: {list(conflicting[conflicting > 1].index)}")
    objects = usable.drop_duplicates("object_id")[["object_id", "label"]]
    cfg = params["split"]
    table = split_objects(objects, cfg["val_fraction"], cfg["test_fraction"], cfg["salt"],
                          cfg.get("max_objects_per_class"))
    check_disjoint(table)
    out = Path(args.out)
    save_table(table, out / "split.csv")
    save_table(catalogue, out / "catalogue.csv")
    kept = [c for c in classes if c not in dropped]
    save_json({"classes": kept, "dropped_classes": dropped,
               "split_hash": fingerprint(table.to_dict("records"))}, out / "classes.json")
    print(f"split: {len(table)} objects in {len(kept)} classes "
          f"({', '.join(f'{k}: {v}' for k, v in table['split'].value_counts().items())}); "
          f"dropped classes: {', '.join(dropped) or 'none'}")


def cmd_realise(args) -> None:
    import numpy as np

    from ciderlab.io import load_table, save_arrays, save_spectra, save_table
    from ciderlab.params import load_params
    from ciderlab.spectra.realise import (RealiseConfig, draw_conditions, realisations_per_spectrum, realise_one,
                          realise_spectra, rng_for)
    from ciderlab.data.templates import load_template_bank

    params = load_params(args.params)
    cfg = RealiseConfig.from_params(params)
    catalogue = load_table(Path(args.split_dir) / "catalogue.csv")
    split = load_table(Path(args.split_dir) / "split.csv")
    used = catalogue[catalogue["reason"].fillna("") == ""].merge(split[["object_id", "split"]],
                                                       on="object_id")
    limit = params["realise"].get("max_spectra_per_object")
    if limit:
        # Keep the spectra nearest maximum light: the phases SEDM classifies most often.
        used = (used.assign(_phase=used["age_days"].abs().fillna(1e9))
                .sort_values(["object_id", "_phase", "epoch"]).groupby("object_id").head(limit)
                .drop(columns="_phase"))
    used = used.sort_values("spectrum_index").reset_index(drop=True)
    bank = load_template_bank(args.wheel)
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    spectra = [bank.spectra[i] for i in used["spectrum_index"]]
    counts = realisations_per_spectrum(used, cfg.n_realisations, cfg.min_train_per_class,
                                       cfg.max_realisations_per_spectrum)
    realised = realise_spectra(bank.wave_rest_aa, spectra, used, hosts, cfg, counts)
    out = Path(args.out)
    save_spectra(realised, out / "spectra.h5")
    save_table(realised.meta, out / "meta.csv")
    # One example per class, every intermediate step kept, for the preprocessing figure.
    examples = {}
    for label, group in used.groupby("label"):
        row = group.iloc[len(group) // 2]
        spectrum = bank.spectra[int(row["spectrum_index"])]
        rng = rng_for(cfg.seed, spectrum.name, spectrum.epoch, 0)
        draw = draw_conditions(rng, cfg, len(hosts))
        steps = realise_one(bank.wave_rest_aa, spectrum.flux, hosts[draw.host_index].flux, draw,
                            rng, cfg)
        key = label.replace(" ", "_")
        examples.update({f"{key}/{name}": value for name, value in steps.items()})
        examples[f"{key}/info"] = np.array([spectrum.name, str(spectrum.age_days),
                                            f"{draw.redshift:.4f}", f"{draw.snr:.1f}",
                                            f"{draw.host_fraction:.2f}"])
    examples.update(wave_template_aa=bank.wave_rest_aa, wave_obs_aa=cfg.wave_obs_aa,
                    wave_rest_aa=cfg.wave_rest_aa)
    save_arrays(examples, out / "examples.npz")
    print(f"realise: {len(realised.meta)} SEDM-like spectra from {len(spectra)} templates "
          f"({cfg.n_realisations}-{counts.max()} each, {cfg.n_bins} bins) -> {out / 'spectra.h5'}")


def _training_inputs(args, head: str):
    """(params, classes, class_info, spectra, flux, target) for a training stage."""
    from ciderlab.io import load_json, load_spectra
    from ciderlab.params import load_params
    from ciderlab.training.runs import class_targets

    params = load_params(args.params)
    class_info = load_json(Path(args.split_dir) / "classes.json")
    classes = class_info["classes"]
    spectra = load_spectra(args.spectra)
    if head == "classifier":
        return (params, classes, class_info, spectra, spectra.flux_rest,
                class_targets(spectra.meta["label"], classes))
    import torch

    target = torch.as_tensor(spectra.meta["redshift"].to_numpy(copy=True), dtype=torch.float32)
    return params, classes, class_info, spectra, spectra.flux_obs, target


def _model_config(params: dict, head: str, n_outputs: int, model_section: dict | None = None):
    from ciderlab.models.spectranet import SpectraNetConfig

    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], n_outputs=n_outputs, head=head,
                            **(model_section or params["model"]))


def _split_rows(spectra, *names):
    import numpy as np

    rows = [np.flatnonzero(spectra.meta["split"].to_numpy() == name) for name in names]
    for name, r in zip(names, rows):
        if len(r) == 0:
            raise ValueError(f"the {name} split has no spectra")
    return rows


def _save_trained(trained, out: Path, head: str, classes, class_info, spectra) -> None:
    """The self-describing checkpoint and the per-epoch history of one training run."""
    import pandas as pd

    from ciderlab.models.checkpoint import git_revision, save_checkpoint
    from ciderlab.io import save_table
    from ciderlab.training.loop import recipe_dict

    frame = "rest" if head == "classifier" else "observed"
    metric = "val_macro_f1" if head == "classifier" else "val_loss"
    best = trained.best_score if head == "classifier" else -trained.best_score
    save_checkpoint(out / f"{head}.pt", trained.model.state_dict(), trained.model_config,
                    recipe=recipe_dict(trained.recipe), classes=classes,
                    split_hash=class_info["split_hash"], git_revision=git_revision(),
                    epoch=trained.best_epoch, best_metric={metric: best}, input_frame=frame,
                    wave_aa=spectra.wave_rest_aa if frame == "rest" else spectra.wave_obs_aa,
                    run_id=trained.run_id)
    save_table(pd.DataFrame(trained.history), out / "history.csv")
    print(f"train_{head}: seed {trained.recipe.seed}, best {metric} {best:.4f} at epoch "
          f"{trained.best_epoch} of {trained.epochs_run} -> {out / f'{head}.pt'}")


def _train(args, head: str) -> None:
    """Shared body of train_classifier (rest frame, labels) and train_redshift (observed, z).

    The classifier trains once per seed in ``train_classifier.seeds``: the first seed's model
    is *the* classifier (``<out>/classifier.pt``, used by every later stage); the others go to
    ``<out>/seeds/seed_<seed>/`` for the mean and standard deviation over seeds.
    """
    from ciderlab.data.pull import sha256_of
    from ciderlab.training.runs import train_one, with_seed
    from ciderlab.training.loop import TrainConfig

    stage = f"train_{head}"
    params, classes, class_info, spectra, flux, target = _training_inputs(args, head)
    cfg = TrainConfig.from_params(params[stage])
    seeds = params[stage].get("seeds") or [cfg.seed]
    model_cfg = _model_config(params, head, len(classes) if head == "classifier" else 1)
    train_rows, val_rows = _split_rows(spectra, "train", "val")
    data_id = sha256_of(args.spectra)
    out = Path(args.out)
    # A finished seed's state file stays until every seed is done, so a rerun after an
    # interruption recovers the finished seeds at once instead of training them again.
    states = [Path(args.state_dir) / f"{stage}_seed{seed}.pt" for seed in seeds]
    for i, (seed, state) in enumerate(zip(seeds, states)):
        trained = train_one(head, flux, target, train_rows, val_rows, model_cfg,
                            with_seed(cfg, seed), data_id, state_path=state)
        _save_trained(trained, out if i == 0 else out / "seeds" / f"seed_{seed}", head, classes,
                      class_info, spectra)
    for state in states:
        state.unlink(missing_ok=True)


def cmd_train_classifier(args) -> None:
    _train(args, "classifier")


def cmd_train_redshift(args) -> None:
    _train(args, "redshift")


def _test_set(spectra, classes):
    """The test split and its integer labels."""
    import numpy as np

    from ciderlab.training.runs import class_targets

    test = spectra.select(np.flatnonzero(spectra.meta["split"].to_numpy() == "test"))
    if test.meta.empty:
        raise ValueError("no test spectra")
    return test, class_targets(test.meta["label"], classes).numpy()


def _classifier_recipe(params: dict, overrides: dict):
    """train_classifier's recipe with ``overrides``, at the reference classifier's seed."""
    from ciderlab.params import merge
    from ciderlab.training.runs import with_seed
    from ciderlab.training.loop import TrainConfig

    seeds = params["train_classifier"].get("seeds") or [TrainConfig.seed]
    return with_seed(TrainConfig.from_params(merge(params["train_classifier"], overrides)),
                     seeds[0])


def cmd_leave_one_out(args) -> None:
    from ciderlab.io import save_json, save_table
    from ciderlab.data.pull import sha256_of
    from ciderlab.training.runs import leave_one_out_summary, run_leave_one_out

    params, classes, _, spectra, flux, _ = _training_inputs(args, "classifier")
    section = params["leave_one_out"]
    cfg = _classifier_recipe(params, {k: v for k, v in section.items() if k != "classes"})
    loo_classes = [c for c in section["classes"] if c in classes]
    if not loo_classes:
        raise ValueError(f"leave_one_out.classes {section['classes']} are not among {classes}")
    objects = run_leave_one_out(flux, spectra.meta, classes, loo_classes,
                                params["realise"]["n_realisations"],
                                _model_config(params, "classifier", len(classes)), cfg,
                                sha256_of(args.spectra), state_dir=Path(args.state_dir))
    out = Path(args.out)
    save_table(objects, out / "objects.csv")
    summary = leave_one_out_summary(objects)
    save_json({"classes": summary, "recipe": {"max_epochs": cfg.max_epochs,
                                              "samples_per_epoch": cfg.samples_per_epoch,
                                              "seed": cfg.seed}}, out / "metrics.json")
    print("leave_one_out: " + ", ".join(
        f"{c} recall {v['recall']:.2f} over {v['n_objects']} objects" for c, v in summary.items()))


def cmd_ablation(args) -> None:
    import pandas as pd

    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.io import save_json, save_table
    from ciderlab.params import merge
    from ciderlab.data.pull import sha256_of
    from ciderlab.training.runs import evaluate_classifier, train_one

    params, classes, _, spectra, flux, target = _training_inputs(args, "classifier")
    section = params["ablation"]
    cfg = _classifier_recipe(params, section.get("train_classifier") or {})
    model_section = merge(params["model"], section.get("model") or {})
    train_rows, val_rows = _split_rows(spectra, "train", "val")
    trained = train_one("classifier", flux, target, train_rows, val_rows,
                        _model_config(params, "classifier", len(classes), model_section), cfg,
                        sha256_of(args.spectra), state_path=Path(args.state_dir) / "ablation.pt")
    reference, _ = load_checkpoint(args.classifier)
    test, y_true = _test_set(spectra, classes)
    out = Path(args.out)
    save_table(pd.DataFrame(trained.history), out / "history.csv")
    save_json({"name": section["name"],
               "overrides": {"train_classifier": section.get("train_classifier") or {},
                             "model": section.get("model") or {}},
               "seed": cfg.seed, "best_epoch": trained.best_epoch,
               "reference": evaluate_classifier(reference, test.flux_rest, y_true, classes),
               "ablated": evaluate_classifier(trained.model, test.flux_rest, y_true, classes)},
              out / "metrics.json")
    (Path(args.state_dir) / "ablation.pt").unlink(missing_ok=True)
    print(f"ablation: '{section['name']}' trained to epoch {trained.best_epoch} -> {out}")


def cmd_evaluate(args) -> None:
    import numpy as np
    import pandas as pd
    import torch

    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.io import load_spectra, save_json, save_table
    from ciderlab.evaluation.metrics import classification_metrics, object_accuracy, redshift_metrics
    from ciderlab.params import load_params
    from ciderlab.spectra.realise import to_rest_frame
    from ciderlab.training.runs import classify, evaluate_classifier, seed_summary
    from ciderlab.spectra.grid import narrow_coverage
    from ciderlab.training.loop import predict, to_tensor

    classifier, checkpoint = load_checkpoint(args.classifier)
    classes = checkpoint["classes"]
    spectra = load_spectra(args.spectra)
    test, y_true = _test_set(spectra, classes)
    proba = classify(classifier, test.flux_rest)
    metrics = classification_metrics(y_true, proba, classes)
    metrics["n_test_objects"] = test.meta.groupby("label")["object_id"].nunique().to_dict()
    # The same test spectra through the classifiers of the other seeds: mean and std over seeds.
    by_seed = {checkpoint["recipe"]["seed"]: metrics}
    seed_dirs = sorted(Path(args.seeds_dir).glob("seed_*")) if args.seeds_dir else []
    for seed_dir in seed_dirs:
        model, described = load_checkpoint(seed_dir / "classifier.pt")
        by_seed[described["recipe"]["seed"]] = evaluate_classifier(model, test.flux_rest, y_true,
                                                                   classes)
    metrics["seeds"] = seed_summary(by_seed, classes)
    predictions = test.meta.assign(predicted=[classes[k] for k in proba.argmax(axis=1)])
    if args.redshift:
        redshift_model, _ = load_checkpoint(args.redshift)
        z_pred = predict(redshift_model, to_tensor(test.flux_obs)).numpy().astype(float)
        metrics["redshift"] = redshift_metrics(z_pred, test.meta["redshift"].to_numpy())
        # End to end: the classifier sees the spectrum de-redshifted with the predicted z.
        rest_pred = np.stack([to_rest_frame(spectra.wave_obs_aa, test.flux_obs[i],
                                            test.covered_obs[i], z_pred[i], spectra.wave_rest_aa)[0]
                              for i in range(len(z_pred))])
        proba_e2e = classify(classifier, rest_pred)
        metrics["end_to_end"] = classification_metrics(y_true, proba_e2e, classes)
        predictions = predictions.assign(
            redshift_pred=z_pred, predicted_end_to_end=[classes[k] for k in proba_e2e.argmax(axis=1)])
    # The paper's NGPS generalisation test, emulated: the same test spectra cut to a narrower
    # observed range (re-normalised over what is left), classified with the true redshift.
    section = load_params(args.params)["evaluate"]
    narrow = narrow_coverage(spectra.wave_obs_aa, test.flux_obs, test.covered_obs,
                             (section["narrow_obs_wave_min_aa"], section["narrow_obs_wave_max_aa"]))
    rest_narrow = np.stack([to_rest_frame(spectra.wave_obs_aa, flux, covered, z,
                                          spectra.wave_rest_aa)[0]
                            if covered.sum() >= 2 else np.zeros(len(spectra.wave_rest_aa))
                            for flux, covered, z in zip(*narrow, test.meta["redshift"])])
    metrics["narrow_coverage"] = classification_metrics(y_true, classify(classifier, rest_narrow), classes)
    metrics["narrow_coverage"]["obs_wave_range_aa"] = [section["narrow_obs_wave_min_aa"],
                                                       section["narrow_obs_wave_max_aa"]]
    # The cleanest test spectra (high S/N, little host light): if the scores stay low here,
    # noise and host light are not what limits the classifier.
    clean = ((test.meta["snr"] >= section["clean_snr_min"])
             & (test.meta["host_fraction"] <= section["clean_host_fraction_max"])).to_numpy()
    metrics["clean_subset"] = (classification_metrics(y_true[clean], proba[clean], classes)
                               if clean.any() else {"n_spectra": 0})
    metrics["clean_subset"]["selection"] = {"snr_min": section["clean_snr_min"],
                                            "host_fraction_max": section["clean_host_fraction_max"]}
    per_object = object_accuracy(predictions)
    metrics["objects_mostly_wrong"] = {
        label: int((group["accuracy"] < 0.5).sum()) for label, group in per_object.groupby("class")}
    predictions = pd.concat([predictions, pd.DataFrame(proba, columns=[f"p_{c}" for c in classes])],
                            axis=1)
    out = Path(args.out)
    save_table(predictions, out / "predictions.csv")
    save_json(metrics, out / "metrics.json")
    extra = ""
    if "redshift" in metrics:
        extra = (f", redshift RMS dz/(1+z) {metrics['redshift']['rms']:.4f}, end-to-end macro-F1 "
                 f"{metrics['end_to_end']['macro_f1']:.3f}")
    print(f"evaluate: {len(predictions)} test spectra, accuracy {metrics['accuracy']:.3f}, "
          f"macro-F1 {metrics['macro_f1']:.3f}, SN Ia vs non-Ia accuracy "
          f"{metrics['ia_vs_non_ia']['accuracy']:.3f}{extra}")


def cmd_baselines(args) -> None:
    import tempfile
    import time

    import numpy as np
    import torch

    from ciderlab.baselines.snid_sage import (OTHER, install_snid_sage, rebuild_flat_observation, run_snid_sage,
                           select_baseline_subset, snid_type_to_class, templates_of_objects,
                           write_spectrum_file)
    from ciderlab.models.checkpoint import load_checkpoint
    from ciderlab.io import load_spectra, save_arrays, save_json, save_table
    from ciderlab.params import load_params
    from ciderlab.data.pull import default_cache_dir
    from ciderlab.spectra.realise import RealiseConfig, to_rest_frame
    from ciderlab.data.templates import load_template_bank
    from ciderlab.training.loop import predict, to_tensor

    params = load_params(args.params)
    section = params["baselines"]
    cfg = RealiseConfig.from_params(params)
    spectra = load_spectra(args.spectra)
    subset = select_baseline_subset(spectra.meta, section["n_spectra"], section["seed"])
    rows = subset.index.to_numpy()
    chosen = spectra.select(rows)
    bank = load_template_bank(args.wheel)
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    by_key = {(s.name, s.epoch): s for s in bank.spectra}
    install_dir = install_snid_sage(args.wheel, Path(args.install_dir or default_cache_dir())
                                    / "snid_sage-0.9.0")
    flats = []
    with tempfile.TemporaryDirectory(prefix="ciderlab-snid-") as work:
        paths = []
        for i, (_, row) in enumerate(subset.iterrows()):
            template = by_key[(row["template"], int(row["epoch"]))]
            flat, covered = rebuild_flat_observation(template, hosts, bank.wave_rest_aa, row, cfg)
            paths.append(Path(work) / f"spectrum_{i:04d}.dat")
            write_spectrum_file(paths[-1], cfg.wave_obs_aa, flat, covered)
            flats.append(flat)
        names = sorted({s.name for s in bank.spectra})
        started = time.perf_counter()
        result = run_snid_sage(paths, templates_of_objects(subset["object_id"].tolist(), names),
                               cfg.redshift_min, cfg.redshift_max, install_dir, work)
        snid_seconds = time.perf_counter() - started
    classifier, checkpoint = load_checkpoint(args.classifier)
    redshift_model, _ = load_checkpoint(args.redshift)
    classes = checkpoint["classes"]
    # SNID-SAGE is not told the redshift, so neither is SpectraNet: it runs end to end, the
    # classifier seeing each spectrum de-redshifted with the redshift model's estimate.
    started = time.perf_counter()
    z_pred = predict(redshift_model, to_tensor(chosen.flux_obs)).numpy()
    rest = np.stack([to_rest_frame(cfg.wave_obs_aa, chosen.flux_obs[i], chosen.covered_obs[i],
                                   float(z_pred[i]), cfg.wave_rest_aa)[0]
                     for i in range(len(z_pred))])
    proba = torch.softmax(predict(classifier, to_tensor(rest)), dim=1).numpy()
    net_seconds = time.perf_counter() - started
    table = subset.reset_index(names="row").assign(
        snid_class=[snid_type_to_class(t or "", s or "", tuple(classes))
                    for t, s in zip(result["type"], result["subtype"])],
        snid_type=result["type"], snid_subtype=result["subtype"],
        snid_redshift=result["redshift"], snid_rlap=result["rlap"],
        snid_best_template=result["best_template"], snid_status=result["status"],
        snid_seconds=result["seconds"],
        spectranet_class=[classes[k] for k in proba.argmax(axis=1)], spectranet_redshift=z_pred)
    out = Path(args.out)
    save_table(table, out / "comparison.csv")
    save_arrays({"wave_obs_aa": cfg.wave_obs_aa, "flux_flat": np.stack(flats),
                 "covered": chosen.covered_obs}, out / "spectra.npz")
    timing = {"n_spectra": len(table), "snid_sage_seconds": snid_seconds,
              "spectranet_seconds": net_seconds,
              "snid_sage_spectra_per_second": len(table) / snid_seconds,
              "spectranet_spectra_per_second": len(table) / net_seconds,
              "snid_sage_ok": int((table["snid_status"] == "ok").sum()),
              "other_class": OTHER}
    save_json(timing, out / "timing.json")
    print(f"baselines: SNID-SAGE on {len(table)} test spectra, "
          f"{timing['snid_sage_spectra_per_second']:.3f} spectra/s vs SpectraNet "
          f"{timing['spectranet_spectra_per_second']:.0f} spectra/s -> {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciderlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    pull = sub.add_parser("pull", help="download and verify the raw archives (SPEC §3)")
    pull.add_argument("--out", default="data/raw")
    pull.add_argument("--cache-dir", type=Path, default=None,
                      help="download cache (default: $CIDERLAB_CACHE_DIR or ~/.cache/ciderlab)")
    pull.add_argument("--index-url", default=None, help="package index to download from")
    pull.set_defaults(func=cmd_pull)

    def stage(name, helptext, func, *paths):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--params", default="params.yaml")
        for flag, default in paths:
            p.add_argument(flag, default=default)
        p.set_defaults(func=func)

    stage("split", "object-level train/val/test split", cmd_split,
          ("--wheel", DEFAULT_WHEEL), ("--out", "results/split"))
    stage("realise", "templates -> SEDM-like spectra", cmd_realise,
          ("--wheel", DEFAULT_WHEEL), ("--split-dir", "results/split"),
          ("--out", "results/realise"))
    stage("train_classifier", "train the SpectraNet classifier", cmd_train_classifier,
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--state-dir", "results/.resume"), ("--out", "results/train_classifier"))
    stage("train_redshift", "train the SpectraNet redshift model", cmd_train_redshift,
          ("--spectra", "results/realise/spectra.h5"), ("--split-dir", "results/split"),
          ("--state-dir", "results/.resume"), ("--out", "results/train_redshift"))
    stage("evaluate", "score the classifier on the test objects", cmd_evaluate,
          ("--spectra", "results/realise/spectra.h5"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--seeds-dir", "results/train_classifier/seeds"),
          ("--redshift", "results/train_redshift/redshift.pt"), ("--out", "results/evaluate"))
    stage("leave_one_out", "leave-one-object-out classifiers for the rarest classes",
          cmd_leave_one_out, ("--spectra", "results/realise/spectra.h5"),
          ("--split-dir", "results/split"), ("--state-dir", "results/.resume"),
          ("--out", "results/leave_one_out"))
    stage("ablation", "the book's worked ablation: the classifier with one switch flipped",
          cmd_ablation, ("--spectra", "results/realise/spectra.h5"),
          ("--split-dir", "results/split"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--state-dir", "results/.resume"), ("--out", "results/ablation"))
    stage("baselines", "SNID-SAGE template matching on the same test spectra", cmd_baselines,
          ("--wheel", DEFAULT_WHEEL), ("--spectra", "results/realise/spectra.h5"),
          ("--classifier", "results/train_classifier/classifier.pt"),
          ("--redshift", "results/train_redshift/redshift.pt"),
          ("--install-dir", None), ("--out", "results/baselines"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"ciderlab {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
