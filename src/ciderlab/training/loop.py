"""The one training loop: every model ciderlab trains goes through ``fit`` (SPEC §7).

AdamW; linear warm-up then cosine warm restarts (or a constant rate), stepped per epoch; EMA
weights for validation and the kept model; gradient clipping; early stopping; mixed precision on
GPU; resumable from a per-epoch state file; data-parallel under torchrun. What a model reads,
learns and is scored on comes from outside: a data object (``spectra_batches.SpectraBatches``
for spectra, with train-time edge masking) and an objective (``heads.Objective``).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from ciderlab.io import atomic_path
from ciderlab.training import distributed


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe: a ``train_*`` section of params.yaml, which holds every value.

    Settings a switch turns off may be absent from the section and are then None:
    ``ema_decay`` without EMA, the focal-loss settings for a head that does not use them,
    ``restart_epochs`` and ``lr_min`` for a constant learning rate, ``patience`` for a run
    with no validation set.
    """

    seed: int
    lr: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    samples_per_epoch: int | None  # None: every training sample once per epoch
    warmup_epochs: int
    restart_epochs: int | None     # cosine warm restarts' T_0; None: constant learning rate
    lr_min: float | None
    patience: int | None
    use_ema: bool
    ema_decay: float | None
    grad_clip: float
    edge_mask_max_fraction: float
    use_focal_loss: bool | None
    focal_gamma: float | None
    class_balance_beta: float | None

    OPTIONAL = ("samples_per_epoch", "restart_epochs", "lr_min", "patience", "ema_decay",
                "use_focal_loss", "focal_gamma", "class_balance_beta", "edge_mask_max_fraction")

    @classmethod
    def from_params(cls, section: dict) -> "TrainConfig":
        """The recipe of one params section (its first seed when it lists ``seeds``)."""
        names = [f.name for f in fields(cls)]
        values = {k: section[k] for k in names if k in section}
        if "seed" not in values and section.get("seeds"):
            values["seed"] = section["seeds"][0]
        missing = [k for k in names if k not in values and k not in cls.OPTIONAL]
        if missing:
            raise ValueError(f"training recipe: params.yaml lacks {', '.join(missing)}")
        if values.get("use_ema") and values.get("ema_decay") is None:
            raise ValueError("training recipe: use_ema needs ema_decay")
        if values.get("use_focal_loss") and (values.get("focal_gamma") is None
                                             or values.get("class_balance_beta") is None):
            raise ValueError("training recipe: use_focal_loss needs focal_gamma and "
                             "class_balance_beta")
        return cls(**{k: values.get(k) for k in names})


def make_scheduler(optimizer, cfg: TrainConfig):
    """Linear warm-up for ``warmup_epochs`` then cosine warm restarts (T_0 = restart_epochs);
    None (a constant rate) when ``restart_epochs`` is None and there is no warm-up."""
    if cfg.restart_epochs is None:
        if cfg.warmup_epochs <= 0:
            return None
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=1.0 / (cfg.warmup_epochs + 1), total_iters=cfg.warmup_epochs)
    restarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=cfg.restart_epochs, eta_min=cfg.lr_min)
    if cfg.warmup_epochs <= 0:
        return restarts
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (cfg.warmup_epochs + 1),
                                               total_iters=cfg.warmup_epochs)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, restarts],
                                                 milestones=[cfg.warmup_epochs])


def rng_state(device: torch.device) -> dict:
    """This process's global RNG states (dropout draws from them): CPU, and the GPU's if used."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def load_resume_state(state_path: Path | None, run_id: str) -> dict | None:
    """The saved state of run ``run_id`` (tensors on the CPU), or None to start afresh.

    Rank 0 reads the file and every rank gets its content, so the file need only be where
    rank 0 runs.
    """
    saved = None
    if distributed.is_main() and state_path is not None and Path(state_path).exists():
        saved = torch.load(state_path, map_location="cpu", weights_only=False)
        if saved.get("run_id") != run_id:
            saved = None
    return distributed.broadcast_from_main(saved)


def fit(model: torch.nn.Module, data, cfg: TrainConfig, objective, val_inputs=None,
        val_target=None, state_path: Path | None = None, run_id: str = "",
        progress: bool = True) -> dict:
    """Train ``model`` in place; return the kept weights, history and best score.

    The one training loop of ciderlab (SpectraNet's heads, GalSpecNet, AppleCiDEr's models).
    ``data`` has ``len(data)`` training samples and ``data.batch(rows, generator)`` returning
    a global batch's (inputs, target) (inputs a tensor or a dict of them), augmented with
    draws from ``generator``. ``objective`` (``heads.Objective``) gives the batch loss and the
    validation score on (``val_inputs``, ``val_target``), higher is better: the best-scoring
    weights are kept and training stops after ``cfg.patience`` epochs without improvement.
    With no score the run lasts ``cfg.max_epochs`` and keeps its last weights.

    AdamW; linear warm-up then cosine warm restarts per epoch (a constant learning rate when
    ``cfg.restart_epochs`` is None); EMA weights validated and kept when ``cfg.use_ema``;
    gradient clipping; bf16 autocast on CUDA. Training runs on the device of ``model``'s
    parameters; the data may be on the CPU. If ``state_path`` holds the state of the same run
    (``run_id``) the run resumes from its last completed epoch.

    Under a torch.distributed process group (torchrun; see ``training.distributed``) each rank
    trains on its share of every global batch of ``cfg.batch_size`` and the result matches one
    process's; rank 0 validates and writes ``state_path``. Every rank returns the same result.
    """
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg)
    ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
           if cfg.use_ema else None)
    use_amp = device.type == "cuda"
    state = {"epoch": 0, "history": [], "best_score": -math.inf, "best_epoch": -1,
             "best_state_dict": None, "stale_epochs": 0}
    saved = load_resume_state(state_path, run_id)
    if saved is not None:
        model.load_state_dict(saved["model"])
        if ema is not None:
            ema.load_state_dict(saved["ema"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        generator.set_state(saved["generator"])
        by_rank = saved["rng_by_rank"]
        set_rng_state(by_rank[distributed.rank() % len(by_rank)], device)
        state = saved["loop"]
        if progress and distributed.is_main():
            print(f"resuming {run_id} after epoch {state['epoch']}")
    n_train = len(data)
    n_epoch = min(cfg.samples_per_epoch or n_train, n_train)
    distributed.check_batches(n_epoch, cfg.batch_size)
    network = distributed.wrap(model, device)  # DDP averages gradients over ranks
    epochs = tqdm(range(state["epoch"], cfg.max_epochs), desc="epochs", unit="epoch",
                  disable=not progress or not distributed.is_main(), initial=state["epoch"],
                  total=cfg.max_epochs)
    for epoch in epochs:
        if objective.score is not None and state["stale_epochs"] >= cfg.patience:
            break
        started = time.perf_counter()
        network.train()
        # A fresh random draw from the training pool each epoch: epoch time stays fixed
        # however many realisations the pool holds. Every rank draws the same order.
        order = torch.randperm(n_train, generator=generator)[:n_epoch]
        # float64, and kept on the device so the GPU is not waited for at every step.
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, len(order), cfg.batch_size):
            rows = order[start:start + cfg.batch_size]
            # The augmentation of the whole global batch: the generator stays in step on all ranks.
            inputs, target = data.batch(rows, generator)
            mine = distributed.shard(len(rows))
            inputs, target = _to(_select(inputs, mine), device), target[mine].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = objective.loss(network, inputs, target, epoch, generator)
            optimizer.zero_grad(set_to_none=True)
            if distributed.world_size() > 1:
                (loss * distributed.share_weight(len(target), len(rows))).backward()
            else:
                loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            if ema is not None:
                ema.update_parameters(model)
            total_loss += loss.detach().double() * len(target)
        train_loss = float(distributed.sum_over_ranks(total_loss)) / len(order)
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        evaluated = ema.module if ema is not None else model
        row = {"epoch": epoch + 1, "train_loss": train_loss}
        if objective.phase is not None:
            row["phase"] = objective.phase(epoch)
        state["epoch"] = epoch + 1
        if objective.score is not None:
            # Validation on rank 0 alone: every rank then takes the same early-stopping decision.
            score, scores = distributed.broadcast_from_main(
                objective.score(evaluated, val_inputs, val_target) if distributed.is_main()
                else None)
            row.update(scores)
            if score > state["best_score"]:
                state.update(best_score=score, best_epoch=epoch + 1, stale_epochs=0,
                             best_state_dict=copy.deepcopy(evaluated.state_dict()))
            else:
                state["stale_epochs"] += 1
            epochs.set_postfix(loss=f"{train_loss:.4f}", score=f"{score:.4f}")
        else:
            state.update(best_epoch=epoch + 1, best_state_dict=None)
            epochs.set_postfix(loss=f"{train_loss:.4f}")
        state["history"].append({**row, "lr": lr, "seconds": time.perf_counter() - started})
        if state_path is not None:
            rngs = distributed.gather_to_all(rng_state(device))
            if distributed.is_main():
                with atomic_path(state_path) as tmp:
                    torch.save({"run_id": run_id, "model": model.state_dict(),
                                "ema": None if ema is None else ema.state_dict(),
                                "optimizer": optimizer.state_dict(),
                                "scheduler": None if scheduler is None else scheduler.state_dict(),
                                "generator": generator.get_state(), "rng_by_rank": rngs,
                                "loop": state}, tmp)
            distributed.barrier()
    kept = state["best_state_dict"]
    if kept is None:  # no validation: the last weights
        kept = copy.deepcopy((ema.module if ema is not None else model).state_dict())
    return {"state_dict": kept, "history": state["history"], "best_score": state["best_score"],
            "best_epoch": state["best_epoch"], "epochs_run": state["epoch"]}


def _select(inputs, index):
    """Part ``index`` of a batch's inputs: a tensor, or a dict of tensors (nested or None)."""
    if isinstance(inputs, dict):
        return {k: _select(v, index) for k, v in inputs.items()}
    return None if inputs is None else inputs[index]


def _to(inputs, device: torch.device):
    if isinstance(inputs, dict):
        return {k: _to(v, device) for k, v in inputs.items()}
    return None if inputs is None else inputs.to(device)


def recipe_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
