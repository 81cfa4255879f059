"""Training recipes for tests: the repository's own params.yaml section with a few values
changed, since params.yaml is the only place a default lives."""

from pathlib import Path

import numpy as np

from ciderlab.params import load_params
from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.loop import TrainConfig, fit
from ciderlab.training.spectra_batches import SpectraBatches


PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def recipe(section: str = "train_classifier", **overrides) -> TrainConfig:
    """``section`` of the repository's params.yaml (its first seed) with ``overrides``."""
    return TrainConfig.from_params({**load_params(PARAMS)[section], **overrides})


def fit_arrays(model, flux, labels, flux_val, labels_val, cfg, objective=None, **options):
    """``fit`` on in-memory (N, L) training and validation arrays, classifier objective by
    default."""
    objective = objective or CLASSIFIER.objective(labels, model.config.n_outputs, cfg)
    data = SpectraBatches(flux, np.arange(len(flux)), labels, cfg.edge_mask_max_fraction)
    return fit(model, data, cfg, objective, flux_val, labels_val, **options)


def params_file(folder: Path, **sections) -> Path:
    """The repository's params.yaml with some sections' values changed, written into
    ``folder``; returns its path."""
    import yaml

    from ciderlab.params import merge

    raw = yaml.safe_load(PARAMS.read_text())
    path = Path(folder) / "params.yaml"
    path.write_text(yaml.safe_dump(merge(raw, sections)))
    return path


def preprocess_config(**overrides) -> PreprocessConfig:
    """The repository's grid and preprocessing (params.yaml) with ``overrides``."""
    params = load_params(PARAMS)
    return PreprocessConfig.from_dict({**params["grid"], **params["preprocess"], **overrides})
