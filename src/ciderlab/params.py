"""Read params.yaml: base sections, with the active profile's overrides applied on top."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path

import yaml

from ciderlab.errors import InputError
from ciderlab.params_read import Recorded

PROFILES = ("default", "smoke", "paper")


class Named:
    """A mapping whose keys are free names (preprocessing options, profiles), each a ``spec``."""

    def __init__(self, spec):
        self.spec = spec


# What each setting may hold: int, float (an int is fine), bool, str; a tuple lists the
# alternatives (None: null); a list [spec] is a list of them; a dict is a section of known keys.
# The keys of the dataclass-backed sections are those classes' fields (tests/test_params.py
# holds the two together): TrainConfig, RealiseConfig, ContinuumConfig, PreprocessConfig,
# SpectraNetConfig, EvaluateConfig. A new setting goes here as well as into params.yaml.
OPTIONAL_INT = (int, None)
TRAIN = {
    "seed": int, "seeds": [int], "lr": float, "weight_decay": float, "batch_size": int,
    "max_epochs": int, "samples_per_epoch": OPTIONAL_INT, "warmup_epochs": int,
    "restart_epochs": OPTIONAL_INT, "lr_min": float, "patience": int, "focal_gamma": float,
    "class_balance_beta": float, "use_focal_loss": bool, "ema_decay": float, "use_ema": bool,
    "grad_clip": float, "edge_mask_max_fraction": float,
}
GRID = {"obs_wave_min_aa": float, "obs_wave_max_aa": float, "rest_wave_min_aa": float,
        "rest_wave_max_aa": float, "n_bins": int}
PREPROCESS = {"fwhm_lnwave": float, "continuum": str, "knot_spacing_lnwave": float,
              "median_window_lnwave": float}
MODEL = {"channels": [int], "kernels": [[int]], "pool": int, "hidden": int, "dropout": float,
         "conv": str, "fft_min_kernel": int}
CONTINUUM = {
    "sn_temperature_k": [float], "tde_temperature_k": [float], "agn_power_index": [float],
    "host_temperature_k": [float], "temperature_scatter": float, "ebv_mw_max": float,
    "ebv_host_mean": float, "response_amplitude": float, "response_order": int,
    "sky_level": float, "sky_red_boost": float, "sky_red_wave_aa": float,
    "sky_blue_boost_max": float, "sky_blue_wave_aa": float, "telluric_depth_max": float,
    "telluric_b_strength": float,
}
SCHEMA = {
    "profile": str,
    "device": str,
    "spectra": {"source": str, "csv": str},
    "labels": {"classes": [str], "extended_taxonomy": bool, "min_objects": int,
               "min_coverage_fraction": float, "separate_classes": [str]},
    "grid": GRID,
    "split": {"n_folds": int, "fixed_fold": int, "val_fraction": float, "salt": str,
              "max_objects_per_class": OPTIONAL_INT, "duplicate_min_correlation": float,
              "duplicate_max_age_difference_days": float, "duplicate_min_overlap_bins": int},
    "preprocess": PREPROCESS,
    "realise": {
        "seed": int, "n_realisations": int, "min_realisations_per_class": int,
        "max_realisations_per_spectrum": int, "redshift_min": float, "redshift_max": float,
        "host_fraction_max": float, "snr_min": float, "snr_max": float,
        "template_fwhm_lnwave": float, "noise_pixel_lnwave": float,
        "max_spectra_per_object": OPTIONAL_INT, "workers": int,
        "continuum": CONTINUUM},
    "model": MODEL,
    "train_classifier": {**TRAIN, "model": MODEL},
    "train_redshift": {**TRAIN, "model": MODEL},
    "cross_validate": {"workers": int},
    "evaluate": {"narrow_obs_wave_min_aa": float, "narrow_obs_wave_max_aa": float,
                 "clean_snr_min": float, "clean_host_fraction_max": float},
    "compare_preprocessing": {"options": Named({**GRID, **PREPROCESS}), "recipe": TRAIN,
                              "max_train_spectra": OPTIONAL_INT, "workers": int,
                              "tolerance": float},
    "ablation": {"variants": Named({"train_classifier": TRAIN, "model": MODEL})},
    "baselines": {"n_spectra": int, "seed": int, "workers": int},
    # ReliabilityConfig's fields.
    "reliability": {"calibration_bins": int, "ood_retain": float, "out_of_class_types": [str],
                    "out_of_class_realisations": int,
                    "outlier_detector": {"c": float, "hidden": int, "alpha": float,
                                         "seed": int},
                    "outlier_detector_splits": int, "interval_level": float,
                    "interval_snr_bins": int, "wide_interval": float,
                    "max_contamination": float,
                    "auroc_bootstrap": {"resamples": int, "level": float, "seed": int}},
    "snid_real_spectra": {"redshift_min": float, "redshift_max": float, "workers": int,
                          "max_files": OPTIONAL_INT},
    "real_spectra": {"max_files": OPTIONAL_INT, "interval_level": float},
    # CatalogueCVConfig's fields, plus folder and csv (read by the CLI).
    "catalogue_cv": {"folder": str, "csv": str, "min_objects": int, "n_folds": int, "salt": str,
                     "val_fraction": float, "recipe": TRAIN, "workers": int},
    # AugmentConfig's fields.
    "augment": {"n_variants": int, "redshift_error": float, "snr_min": float, "snr_max": float,
                "response_amplitude": float, "response_order": int, "seed": int},
    "alerts": {"source": str, "labels": str, "files": [str], "stamp_size": int,
               "stamp_normalisation": str,
               "min_objects_per_class": int},
    # MultimodalConfig's fields (tests/test_multimodal_training.py holds them together), plus
    # torch_threads (read by the CLI).
    "train_multimodal": {
        "modes": [str], "n_folds": int, "salt": str, "seed": int, "epochs": int,
        "pretrain_epochs": int, "mask_fraction": float, "batch_size": int, "lr": float,
        "weight_decay": float, "warmup_epochs": int, "restart_epochs": OPTIONAL_INT,
        "use_ema": bool, "grad_clip": float, "max_events": int, "include_limits": bool,
        "early_days": [float], "early_modes": [str], "towers": [str], "projection_dim": int,
        "fusion_dropout": float, "torch_threads": int,
        "photometry": {"d_model": int, "n_heads": int, "n_layers": int, "ff_multiplier": int,
                       "dropout": float},
        "astrominn": {"image_channels": [int], "stem_stride": int, "tower_hidden": int,
                      "tower_out": int, "tower_dropout": float, "n_experts": int, "top_k": int,
                      "router_dropout": float, "expert_hidden": int, "embedding_dim": int}},
    # TrainConfig's fields, GalSpecInputConfig's, GalSpecNetConfig's under model (n_bins and
    # n_outputs come from the grid and the classes), and torch_threads (read by the CLI).
    "train_galspecnet": {
        **{k: v for k, v in TRAIN.items() if k != "seeds"},
        "wave_min_aa": float, "wave_max_aa": float, "step_aa": float, "torch_threads": int,
        "model": {"channels": [int], "kernel_size": int, "pool_size": int, "dropout": float}},
    "pull": {"max_attempts": int, "backoff_s": float, "backoff_max_s": float,
             "retry_after_max_s": float, "timeout_s": float, "manifest_every_objects": int},
}
SCHEMA["profiles"] = Named({k: v for k, v in SCHEMA.items() if k not in ("profile",)})


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` applied on top, nested sections merged key by key."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _type_name(spec) -> str:
    if isinstance(spec, tuple):
        return " or ".join("null" if s is None else _type_name(s) for s in spec)
    if isinstance(spec, list):
        return f"a list of {_type_name(spec[0])}"
    if isinstance(spec, (dict, Named)):
        return "a section (key: value lines)"
    return {int: "a whole number", float: "a number", bool: "true or false",
            str: "a string"}[spec]


def _matches(value, spec) -> bool:
    """Whether ``value`` is of the scalar or list ``spec`` (sections are walked separately)."""
    if spec is None:
        return value is None
    if isinstance(spec, tuple):
        return any(_matches(value, s) for s in spec)
    if isinstance(spec, list):
        return isinstance(value, list) and all(_matches(v, spec[0]) for v in value)
    if spec is float:  # bool is an int to Python; true is not a learning rate
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, spec)


def _problem(where: str, value, spec) -> str:
    hint = ""
    if isinstance(value, str) and float in (spec if isinstance(spec, tuple) else (spec,)):
        # PyYAML reads 1e-3 (no dot) as a string, a classic.
        hint = " (write numbers without quotes, exponents with a dot: 1.0e-3)"
    return f"{where} is {value!r}, expected {_type_name(spec)}{hint}"


def schema_problems(values, spec=SCHEMA, where: str = "") -> list[str]:
    """Every unknown key and wrongly typed value in ``values`` against ``spec``, as messages.

    Parameters
    ----------
    values : dict
        Parsed params.yaml (or one section of it).
    spec : dict or Named
        The schema (``SCHEMA``) or one of its sections.
    where : str
        Dotted path of ``values`` inside params.yaml, for the messages.

    Returns
    -------
    list of str
        One message per problem, e.g. "unknown key 'trian_classifier' (did you mean
        'train_classifier'?)"; empty when ``values`` fits.
    """
    if not isinstance(values, dict):
        return [_problem(where.rstrip(".") or "the file", values, spec)]
    problems = []
    for key, value in values.items():
        if isinstance(spec, Named):
            if not isinstance(value, dict):
                problems.append(_problem(f"{where}{key}", value, spec.spec))
            else:
                problems += schema_problems(value, spec.spec, f"{where}{key}.")
            continue
        if key not in spec:
            close = difflib.get_close_matches(str(key), list(spec), n=1, cutoff=0.6)
            suggestion = f"did you mean '{close[0]}'?" if close else (
                f"known: {', '.join(spec)}")
            problems.append(f"unknown key '{where}{key}' ({suggestion})")
        elif isinstance(spec[key], (dict, Named)):
            problems += schema_problems(value, spec[key], f"{where}{key}.")
        elif not _matches(value, spec[key]):
            problems.append(_problem(f"{where}{key}", value, spec[key]))
    return problems


def resolve_params(raw: dict) -> dict:
    """Apply ``profiles[profile]`` to the base sections; return the resolved parameters."""
    profile = raw.get("profile", "default")
    profiles = raw.get("profiles") or {}
    if profile != "default" and profile not in profiles:
        raise ValueError(f"params.yaml: profile {profile!r} is not defined under 'profiles' "
                         f"(known: default, {', '.join(profiles)})")
    base = {k: v for k, v in raw.items() if k not in ("profiles",)}
    return merge(base, profiles.get(profile, {}))


def shadowed_edits(raw: dict, committed: dict) -> list[str]:
    """Base keys edited since ``committed`` (the version in git) that the active profile
    replaces: such an edit (``dvc exp run -S model.kernels=...`` with the smoke profile
    active) would change nothing, silently. Returns them as dotted names."""
    profile = raw.get("profile", "default")
    replaced = (raw.get("profiles") or {}).get(profile) or {}
    out = []

    def walk(overrides: dict, base: dict, before: dict, where: str) -> None:
        for key, value in overrides.items():
            now, then = base.get(key), (before or {}).get(key)
            if isinstance(value, dict) and isinstance(now, dict):
                walk(value, now, then if isinstance(then, dict) else {}, f"{where}{key}.")
            elif now != then:
                out.append(f"{where}{key}")

    walk(replaced, raw, committed, "")
    return out


def committed_params(path: Path) -> dict | None:
    """The committed (git HEAD) version of the parameter file, or None outside a git checkout."""
    import subprocess

    try:
        result = subprocess.run(["git", "show", f"HEAD:./{path.name}"], cwd=path.parent,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        committed = yaml.safe_load(result.stdout)
    except yaml.YAMLError:
        return None
    return committed if isinstance(committed, dict) else None


def load_params(path: str | Path = "params.yaml", profile: str | None = None) -> dict:
    """Read, check and resolve a parameter file (with ``profile`` instead of the file's own
    active profile when given: the book's pages that set two profiles side by side).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    InputError
        If it cannot be read, is not valid YAML, or holds an unknown key or a value of the
        wrong type (each named, with the closest known key where there is one).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no parameter file; run from the repository root")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read ({error}); pass a readable params.yaml "
                         "with --params") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(f"{path}: not valid YAML ({at}{problem}); fix that line (indentation, "
                         "a missing colon or an unclosed bracket or quote)") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping of sections")
    active = raw.get("profile", "default")
    if profile is not None:
        raw = {**raw, "profile": profile}
    problems = schema_problems(raw)
    if problems:
        raise InputError(f"{path}: {'; '.join(problems)}. Fix params.yaml (a new setting also "
                         "needs its entry in SCHEMA, src/ciderlab/params.py)")
    try:
        resolved = resolve_params(raw)
    except ValueError as error:
        raise InputError(str(error).replace("params.yaml", str(path), 1)) from None
    if profile is None and active != "default":  # an edit the active profile would undo
        shadowed = shadowed_edits(raw, committed_params(path.resolve()) or raw)
        if shadowed:
            profile = raw["profile"]
            instead = ", ".join(f"profiles.{profile}.{key}" for key in shadowed)
            raise InputError(
                f"{path}: {', '.join(shadowed)} changed, but the active profile {profile!r} "
                f"replaces {'it' if len(shadowed) == 1 else 'them'} with its own value, so the "
                f"change would do nothing; set {instead} instead (e.g. `dvc exp run -S ...`), "
                "or use profile: default")
    return Recorded(resolved, "")  # notes which keys the command reads (params_read)


def section_config(cls, section: dict, name: str):
    """The dataclass ``cls`` from the params.yaml section ``name``, which must hold every one of
    its fields (the section may hold more, read by the CLI)."""
    from dataclasses import fields

    names = [f.name for f in fields(cls)]
    missing = [k for k in names if k not in section]
    if missing:
        raise InputError(f"{name}: params.yaml lacks {', '.join(missing)}")
    return cls(**{k: section[k] for k in names})
