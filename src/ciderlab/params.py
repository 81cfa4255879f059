"""Read params.yaml: base sections, with the active profile's overrides applied on top."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

PROFILES = ("default", "smoke", "paper")


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override`` applied on top, nested sections merged key by key."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_params(raw: dict) -> dict:
    """Apply ``profiles[profile]`` to the base sections; return the resolved parameters."""
    profile = raw.get("profile", "default")
    profiles = raw.get("profiles") or {}
    if profile != "default" and profile not in profiles:
        raise ValueError(f"params.yaml: profile {profile!r} is not defined under 'profiles' "
                         f"(known: default, {', '.join(profiles)})")
    base = {k: v for k, v in raw.items() if k not in ("profiles",)}
    return merge(base, profiles.get(profile, {}))


def load_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no parameter file; run from the repository root")
    with open(path) as handle:
        raw = yaml.safe_load(handle)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of sections")
    return resolve_params(raw)
