"""Where the pipeline writes what later commands read by default (dvc.yaml names the same
paths; tests/test_cli.py holds the two together). Imports nothing, so the CLI starts fast."""

RAW = "data/raw"
TEMPLATE_WHEEL = "data/raw/snid_sage-0.9.0-py3-none-any.whl"
ALERT_ARCHIVE = "data/raw/fink-science-7.4.0.tar.gz"
REAL_SPECTRA_TRUTH = "real_spectra/truth.csv"
RESULTS = "results"
SPLIT = "results/split"
SPECTRA = "results/realise/spectra.h5"
CLASSIFIER = "results/train_classifier/classifier.pt"
CLASSIFIER_SEEDS = "results/train_classifier/seeds"
REDSHIFT_MODEL = "results/train_redshift/redshift.pt"
MODEL = {"classifier": CLASSIFIER, "redshift": REDSHIFT_MODEL}  # the shipped model of each head
CROSS_VALIDATE = {"classifier": "results/cross_validate_classifier",
                  "redshift": "results/cross_validate_redshift"}
RELIABILITY = "results/reliability/reliability.json"
ALERTS = "results/alerts"
ALERT_MODELS = "results/train_multimodal/models"  # AppleCiDEr: <mode>_fold<k>.pt
STATE = "results/.resume"
