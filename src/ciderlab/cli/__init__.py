"""The one command-line interface: ``ciderlab <stage>``, one subcommand per DVC stage, plus the
commands users run on the trained models (``classify``, ``export``, ``measured``).

Each subcommand reads its arguments and inputs, calls one library function, writes what it
returns and prints one line. Paths come from the command line (dvc.yaml; defaults in
``ciderlab.paths``); numbers from params.yaml. The commands live beside this file by paper:
``data`` (pulls and datasets), ``spectranet``, ``reliability``, ``applecider``, ``deliver``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ciderlab import paths
from ciderlab.cli import applecider, data, deliver, reliability, spectranet
from ciderlab.errors import CiderlabError
from ciderlab.params_read import write_names_read


def _add_pull(sub) -> None:
    pull = sub.add_parser("pull", help="download data: the raw archives (SPEC §3, default), "
                          "Fritz sources or a night of public ZTF alerts (SPEC §3.3)")
    pull.add_argument("source", nargs="?", default="raw", choices=tuple(data.PULL_OPTIONS),
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
    pull.add_argument("--catalogue", action="store_true",
                      help="fritz: then write --out/catalogue.csv and one SkyPortal JSON file "
                      "per spectrum, for `ciderlab classify --catalogue`")
    pull.add_argument("--night", help="ztf-alerts: UTC night, YYYYMMDD")
    pull.add_argument("--programid", default="public", help="ztf-alerts: tarball family")
    pull.add_argument("--object-ids", help="ztf-alerts: keep only these objects (file or id,id)")
    pull.add_argument("--max-packets", type=int, default=None,
                      help="ztf-alerts: stop after this many packets")
    pull.add_argument("--params", default="params.yaml",
                      help="fritz, ztf-alerts: retries and timeouts from its `pull` section")
    pull.set_defaults(func=data.cmd_pull)


def _add_stages(sub) -> None:
    def stage(name, helptext, func, *options):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--params", default="params.yaml")
        for flag, default, *rest in options:
            choices = rest[0] if rest else None  # (flag, default[, choices[, aliases]])
            aliases = rest[1] if len(rest) > 1 else ()
            p.add_argument(flag, *aliases, default=default,
                           **({"choices": choices} if choices else {}))
        p.set_defaults(func=func)

    spectra, split, state = ("--spectra", paths.SPECTRA), ("--split-dir", paths.SPLIT), \
        ("--state-dir", paths.STATE)
    classifier, redshift = ("--classifier", paths.CLASSIFIER), ("--redshift", paths.REDSHIFT_MODEL)
    cv = (("--classifier-cv", paths.CROSS_VALIDATE["classifier"]),
          ("--redshift-cv", paths.CROSS_VALIDATE["redshift"]))
    device, wheel = ("--device", None), ("--wheel", paths.TEMPLATE_WHEEL)
    # The spectra source: the template bank's wheel or a catalogue folder; default params.yaml
    # spectra.source; --wheel is its older name.
    source = ("--source", None, None, ("--wheel",))
    stage("split", "objects, merged duplicates, folds and the fixed split", data.cmd_split,
          source, ("--out", paths.SPLIT))
    stage("realise", "templates (or a catalogue's spectra) -> model inputs", data.cmd_realise,
          source, split, ("--out", "results/realise"))
    stage("train_classifier", "train the SpectraNet classifier", spectranet.cmd_train_classifier,
          spectra, split, state, ("--out", "results/train_classifier"), device)
    stage("train_redshift", "train the SpectraNet redshift model", spectranet.cmd_train_redshift,
          spectra, split, state, ("--out", "results/train_redshift"), device)
    stage("compare_preprocessing", "continuum removal options scored on validation objects "
          "and by how like realised inputs each makes the real files' (no labels read)",
          spectranet.cmd_compare_preprocessing, spectra, split,
          ("--truth", paths.REAL_SPECTRA_TRUTH), ("--out", "results/compare_preprocessing"))
    stage("cross_validate", "k-fold cross-validation by object of one head: every object "
          "tested once", spectranet.cmd_cross_validate, ("--head", "classifier",
                                                         ("classifier", "redshift")),
          spectra, split, ("--model", None), state, ("--out", None), device)
    stage("evaluate", "score the test objects and the cross-validated predictions",
          spectranet.cmd_evaluate, spectra, classifier, ("--seeds-dir", paths.CLASSIFIER_SEEDS),
          redshift, *cv, ("--out", "results/evaluate"), device)
    stage("catalogue_cv", "the classifier on a catalogue of labelled spectra, from scratch and "
          "fine-tuned, cross-validated over its objects", spectranet.cmd_catalogue_cv,
          ("--catalogue", paths.REAL_SPECTRA_TRUTH), classifier, state,
          ("--out", "results/catalogue_cv"))
    stage("ablation", "ablation.variants: the classifier with switches flipped, over every "
          "fold, paired with the reference", spectranet.cmd_ablation, spectra, split,
          ("--reference", f"{paths.CROSS_VALIDATE['classifier']}/predictions.csv"), state,
          ("--out", "results/ablation"), device)
    stage("snid_realised_spectra", "SNID-SAGE template matching on realised test spectra",
          reliability.cmd_snid_realised_spectra, wheel, spectra, split, ("--install-dir", None),
          ("--out", "results/snid_realised_spectra"))
    stage("baselines", "SpectraNet on the spectra SNID-SAGE matched, both scored",
          reliability.cmd_baselines, spectra, ("--snid", "results/snid_realised_spectra"),
          classifier, redshift, ("--out", "results/baselines"))
    stage("reliability", "calibration, 'none of these' and redshift intervals, fitted on "
          "validation objects", reliability.cmd_reliability, wheel, spectra, split, classifier,
          *cv, ("--out", "results/reliability"))
    stage("snid_real_spectra", "SNID-SAGE on the real spectra, with and without the redshift",
          reliability.cmd_snid_real_spectra, wheel, ("--truth", paths.REAL_SPECTRA_TRUTH),
          ("--install-dir", None), ("--out", "results/snid_real_spectra"))
    stage("real_spectra", "the final models on real observed spectra",
          reliability.cmd_real_spectra, ("--truth", paths.REAL_SPECTRA_TRUTH), classifier,
          redshift, ("--reliability", paths.RELIABILITY), spectra,
          ("--snid", "results/snid_real_spectra/answers.csv"), ("--out", "results/real_spectra"))
    stage("alerts", "real ZTF alert packets -> light curves, metadata, cutouts, labels",
          data.cmd_alerts, ("--source", paths.ALERT_ARCHIVE), ("--labels", "simbad"),
          ("--out", paths.ALERTS))
    stage("train_multimodal", "AppleCiDEr's models cross-validated on the alerts, per mode",
          applecider.cmd_train_multimodal, ("--alerts", paths.ALERTS), state,
          ("--out", "results/train_multimodal"))
    stage("train_galspecnet", "AppleCiDEr I's spectra CNN cross-validated on SpectraNet's folds",
          applecider.cmd_train_galspecnet, spectra, split, state,
          ("--out", "results/train_galspecnet"), device)


def _add_deliverables(sub) -> None:
    measured = sub.add_parser("measured", help="check (or --write) the README's measured table "
                              "against the results and records")
    measured.add_argument("--write", action="store_true",
                          help="snapshot --results into benchmarks/results/measured.json and "
                               "rewrite the README's table")
    measured.add_argument("--results", default=paths.RESULTS)
    measured.add_argument("--root", default=".", help="the checkout (README.md, benchmarks/)")
    measured.add_argument("--commit", default=None,
                          help="the commit the results were made at (default: the checkout's)")
    measured.set_defaults(func=deliver.cmd_measured)
    export = sub.add_parser("export", help="the classifier and redshift model as ONNX + JSON")
    export.add_argument("--onnx", action="store_true", help="export to ONNX (the only format)")
    export.add_argument("--classifier", default=paths.CLASSIFIER)
    export.add_argument("--redshift", default=paths.REDSHIFT_MODEL)
    export.add_argument("--alerts", action="store_true",
                        help="export AppleCiDEr's fused alert model (the ztf mode's fold "
                        "ensemble in --alert-models) instead of SpectraNet's two models")
    export.add_argument("--alert-models", default=paths.ALERT_MODELS)
    export.add_argument("--out", default="results/export")
    export.set_defaults(func=deliver.cmd_export)
    classify = sub.add_parser("classify", help="classify your own spectrum files (ASCII, FITS, "
                              "SkyPortal JSON)")
    classify.add_argument("files", nargs="*", help="spectrum files (or --catalogue)")
    classify.add_argument("--redshift", type=float, default=None,
                          help="known redshift for every file (default: predicted)")
    classify.add_argument("--catalogue", default=None, metavar="CSV",
                          help="classify every file a catalogue lists (columns file, object, "
                          "class, redshift), each at its own redshift (predicted where empty); "
                          "the answers gain its object and class")
    classify.add_argument("--classifier", default=paths.CLASSIFIER)
    classify.add_argument("--redshift-model", default=paths.REDSHIFT_MODEL)
    classify.add_argument("--params", default="params.yaml",
                          help="for the training ranges the warnings compare with (optional)")
    classify.add_argument("--reliability", default=paths.RELIABILITY,
                          help="calibration, 'none of these' threshold and redshift intervals "
                          "(the reliability stage's; used when present)")
    output = classify.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON instead of text lines")
    output.add_argument("--csv", action="store_true", help="CSV instead of text lines")
    classify.add_argument("--out", default=None, help="write the answers here (default: stdout)")
    classify.add_argument("--plot", default=None, help="write one PNG per file into this folder")
    classify.set_defaults(func=deliver.cmd_classify)
    alerts = sub.add_parser("classify-alerts", help="classify ZTF alert packets (Avro files, an "
                            "archive night's tarball, Parquet, or folders of them) with "
                            "AppleCiDEr's trained modes")
    alerts.add_argument("packets", nargs="+", help="alert files or folders")
    alerts.add_argument("--models", default=paths.ALERT_MODELS,
                        help="the folder train_multimodal wrote its <mode>_fold<k>.pt into")
    output = alerts.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON instead of text")
    output.add_argument("--csv", action="store_true", help="CSV, one row per object")
    alerts.add_argument("--out", default=None, help="write the answers here (default: stdout)")
    alerts.set_defaults(func=applecider.cmd_classify_alerts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciderlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_pull(sub)
    _add_stages(sub)
    _add_deliverables(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CiderlabError, OSError, ValueError, RuntimeError) as error:
        print(f"ciderlab {args.command}: error: {_message(error)}", file=sys.stderr)
        return 1
    # What params.yaml keys the stage read ($CIDERLAB_PARAMS_READ; the smoke test checks
    # dvc.yaml's params against it). cross_validate runs as one stage per head.
    head = getattr(args, "head", None)
    write_names_read(f"{args.command}_{head}" if head else args.command)
    return 0


def _message(error: Exception) -> str:
    """The error's text; the system's own (e.g. "[Errno 21] Is a directory: 'x'") reworded."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return (f"{error.filename}: {error.strerror.lower()}; pass a readable file there "
                "(check the path and its permissions)")
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
