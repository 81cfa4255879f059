"""Training runs: one model from arrays and configs, scored rows, summaries over seeds.

The CLI's training stages (``train_classifier``, ``train_redshift``, ``cross_validate``,
``ablation``) are thin shells over these functions; each function takes arrays and configs
and returns results, so the tests drive them without files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ciderlab.params import merge
from ciderlab.prediction import to_tensor
from ciderlab.provenance import fingerprint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training import distributed
from ciderlab.training.heads import Head
from ciderlab.training.loop import TrainConfig, fit, recipe_dict
from ciderlab.training.spectra_batches import SpectraBatches


@dataclass
class TrainedModel:
    """A model holding its best weights, with what produced it."""

    model: torch.nn.Module
    model_config: SpectraNetConfig  # or the config of the model ``train_one`` was given
    recipe: TrainConfig
    run_id: str
    history: list[dict]
    best_epoch: int
    best_score: float
    epochs_run: int


def run_fingerprint(model_config, cfg: TrainConfig, data_id: str, train_rows: np.ndarray,
                    headline: Sequence[int] | None) -> str:
    """The id of a training run: everything its result depends on (model config, recipe,
    data, training rows, the classes early stopping scores). A checkpoint records it."""
    return fingerprint(model_config.to_dict(), recipe_dict(cfg), data_id,
                       fingerprint(np.asarray(train_rows).tolist()),
                       None if headline is None else [int(k) for k in headline])


def train_one(head: Head, flux: np.ndarray, target: torch.Tensor, train_rows: np.ndarray,
              val_rows: np.ndarray, model_config: SpectraNetConfig, cfg: TrainConfig,
              data_id: str, state_path: Path | None = None, progress: bool = True,
              device: torch.device | str = "cpu",
              build_model: Callable[..., torch.nn.Module] = SpectraNet,
              headline: Sequence[int] | None = None) -> TrainedModel:
    """Train a SpectraNet ``head`` (``heads.CLASSIFIER`` or ``heads.REDSHIFT``) from scratch.

    ``build_model(model_config)`` makes another model instead (GalSpecNet): its config needs
    ``n_outputs`` and ``to_dict()``. ``flux`` (N, L) holds every spectrum, or is anything that
    returns those rows' (B, L) inputs when indexed with rows (``GalSpecInputs``); the rows
    select training and validation. The run is
    resumable from ``state_path``; ``data_id`` (e.g. the spectra file's checksum) joins the
    run's fingerprint so a state file of other data is never resumed. The model is built on
    the CPU (the same initial weights on every device) and trained on ``device``; under
    torchrun every rank calls this with its own device (see ``training.distributed``).
    A classifier stops early on the validation macro-F1 over the class indices ``headline``
    (``labels.separate_classes`` left out; default every class).
    """
    if len(train_rows) == 0 or len(val_rows) == 0:
        raise ValueError("the training or validation set is empty")
    objective = head.objective(target[train_rows], model_config.n_outputs, cfg, headline)
    run_id = run_fingerprint(model_config, cfg, data_id, train_rows, headline)
    device = torch.device(device)
    # The seed governs initial weights and dropout; the caller's global RNG state is restored.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg.seed)
        model = build_model(model_config).to(device)
        if distributed.world_size() > 1:
            # Same initial weights on every rank; different dropout masks on each rank's share.
            torch.manual_seed(cfg.seed + distributed.rank())
        data = SpectraBatches(flux, train_rows, target[train_rows], cfg.edge_mask_max_fraction)
        result = fit(model, data, cfg, objective, to_tensor(flux[val_rows]), target[val_rows],
                     state_path=state_path, run_id=run_id, progress=progress)
    model.load_state_dict(result["state_dict"])
    model.eval()
    return TrainedModel(model, model_config, cfg, run_id, result["history"], result["best_epoch"],
                        result["best_score"], result["epochs_run"])


def train_seeds(head: Head, flux: np.ndarray, target: torch.Tensor, train_rows: np.ndarray,
                val_rows: np.ndarray, model_config: SpectraNetConfig, cfg: TrainConfig,
                seeds: list[int], data_id: str, state_dir: Path | None = None,
                progress: bool = True, device: torch.device | str = "cpu",
                headline: Sequence[int] | None = None) -> list[TrainedModel]:
    """The same run once per seed (the paper's protocol: seeds 42, 777, 888, mean +- std).

    A finished seed's state file stays until every seed is done, so a rerun after an
    interruption recovers the finished seeds at once instead of training them again.
    """
    states = [None if state_dir is None else Path(state_dir) / f"{head.name}_seed{seed}.pt"
              for seed in seeds]
    trained = [train_one(head, flux, target, train_rows, val_rows, model_config,
                         with_seed(cfg, seed), data_id, state_path=state, progress=progress,
                         device=device, headline=headline)
               for seed, state in zip(seeds, states)]
    for state in states:
        if state is not None and distributed.is_main():
            state.unlink(missing_ok=True)
    return trained


def model_config_from_params(params: dict, head: Head, classes: list[str],
                             overrides: dict | None = None,
                             head_overrides: bool = True) -> SpectraNetConfig:
    """SpectraNet's config from resolved params.yaml (``grid.n_bins`` and ``model``, then the
    head's own ``train_<head>.model`` overrides unless ``head_overrides`` is False, then
    ``overrides``): one output per class for the classifier, one for the redshift model."""
    own = (params.get(f"train_{head.name}", {}).get("model") or {}) if head_overrides else {}
    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], n_outputs=head.n_outputs(classes),
                            head=head.name,
                            **merge(merge(params["model"], own), overrides or {}))


def recipe_from_params(params: dict, stage: str, overrides: dict | None = None) -> TrainConfig:
    """The training recipe of section ``stage`` (with ``overrides``) at the stage's first seed."""
    return TrainConfig.from_params(merge(params[stage], overrides or {}))


def with_seed(cfg: TrainConfig, seed: int) -> TrainConfig:
    return replace(cfg, seed=int(seed))
