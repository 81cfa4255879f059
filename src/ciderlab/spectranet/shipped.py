"""The models ``ciderlab classify`` ships: the classifier and redshift checkpoints, checked to
share their preprocessing, the training domain the warnings compare with, and the reliability
stage's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ciderlab import paths
from ciderlab.errors import InputError
from ciderlab.spectra.preprocess import PreprocessConfig

# The preprocessing settings the two models must share for one spectrum to feed both.
SHARED_PREPROCESS = ("obs_wave_min_aa", "obs_wave_max_aa", "n_bins", "fwhm_lnwave", "continuum",
                     "knot_spacing_lnwave", "median_window_lnwave")


@dataclass(frozen=True)
class TrainingDomain:
    """What the models saw in training: redshift range and lowest S/N per resolution element."""

    redshift_min: float
    redshift_max: float
    snr_min: float | None = None

    @classmethod
    def from_params(cls, section: dict) -> "TrainingDomain":
        """From params.yaml's ``realise`` section."""
        return cls(float(section["redshift_min"]), float(section["redshift_max"]),
                   float(section["snr_min"]))

    @classmethod
    def from_preprocess(cls, cfg: PreprocessConfig) -> "TrainingDomain":
        """Without params.yaml: the redshifts the rest-frame grid supports, no S/N check."""
        return cls(0.0, cfg.obs_wave_min_aa / cfg.rest_wave_min_aa - 1.0, None)


class Models(NamedTuple):
    """The two checkpoints as ``load_checkpoint`` returns them, their training domain, and the
    reliability settings (None without them)."""

    classifier: tuple  # (SpectraNet, payload)
    redshift_model: tuple  # (SpectraNet, payload)
    domain: TrainingDomain
    reliability: dict | None = None


# The layout of reliability.json (written by ``reliability.shipped_settings``); ``load_models``
# refuses any other. 1 (unnumbered): a bare "temperature"; 2: a "calibration" dict (temperature
# or top-label map) and the embedding fits beside it. Raise it whenever ``classify`` would
# misread settings written before.
SETTINGS_FORMAT = 2


def load_models(classifier_path: str | Path = paths.CLASSIFIER,
                redshift_path: str | Path = paths.REDSHIFT_MODEL,
                params: dict | None = None, reliability_path: str | Path | None = None) -> Models:
    """Both checkpoints, checked to be a classifier and a redshift model sharing preprocessing.

    ``params`` (resolved params.yaml) gives the training domain; without it, the redshift range
    the rest-frame grid supports is used and S/N is not checked. ``reliability_path``: the
    ``reliability`` stage's settings (calibration, "none of these", redshift intervals).
    """
    from ciderlab.checkpoint import load_checkpoint

    loaded = {}
    for head, path, flag in (("classifier", classifier_path, "--classifier"),
                             ("redshift", redshift_path, "--redshift-model")):
        try:
            model, payload = load_checkpoint(path)
        except FileNotFoundError as error:
            raise InputError(f"{error}; or pass the checkpoint with {flag}") from error
        if payload["model_config"].get("head") != head or "preprocess" not in payload:
            raise InputError(f"{path}: not a {head} checkpoint with preprocessing settings "
                             f"(head {payload['model_config'].get('head')!r}); pass the "
                             f"{head} model's .pt file with {flag}")
        loaded[head] = (model, payload)
    cfg_c, cfg_z = (PreprocessConfig.from_dict(loaded[h][1]["preprocess"])
                    for h in ("classifier", "redshift"))
    differ = [k for k in SHARED_PREPROCESS if getattr(cfg_c, k) != getattr(cfg_z, k)]
    if differ:
        raise InputError(f"{classifier_path} and {redshift_path} were trained with different "
                         f"preprocessing ({', '.join(differ)}); pass two checkpoints of one run")
    domain = TrainingDomain.from_params(params["realise"]) if params else TrainingDomain.from_preprocess(cfg_c)
    reliability = None
    if reliability_path is not None:
        from ciderlab.io import load_arrays, load_json

        try:
            reliability = load_json(reliability_path)
            # Settings of another layout fail here, with the message below, not halfway
            # through a classification.
            if reliability.get("format", 1) != SETTINGS_FORMAT:
                raise ValueError(f"written in format {reliability.get('format', 1)}, this "
                                 f"ciderlab reads format {SETTINGS_FORMAT}")
            ood = reliability["none_of_these"]
            if ood.get("fits"):  # the embedding's class Gaussians and outlier detector
                ood["fits"] = load_arrays(Path(reliability_path).parent / ood["fits"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"{reliability_path}: cannot read the reliability settings "
                             f"({error}); run `dvc repro reliability` or leave them out") from error
    return Models(loaded["classifier"], loaded["redshift"], domain, reliability)
