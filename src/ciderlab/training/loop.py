"""The training loop shared by the classifier and the redshift model (SPEC §7).

AdamW; linear warm-up then cosine warm restarts, stepped per epoch; EMA weights for
validation and the saved model; gradient clipping; train-time edge masking; early stopping;
mixed precision on GPU; resumable from a per-epoch state file; data-parallel under torchrun.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from ciderlab.io import atomic_path
from ciderlab.training import distributed
from ciderlab.training.losses import class_balanced_weights, focal_loss
from ciderlab.evaluation.metrics import classification_metrics


@dataclass(frozen=True)
class TrainConfig:
    """The ``train_classifier`` / ``train_redshift`` sections of params.yaml."""

    seed: int = 42
    lr: float = 1.6e-4
    weight_decay: float = 1e-5
    batch_size: int = 256
    max_epochs: int = 100
    samples_per_epoch: int | None = None  # None: every training spectrum once per epoch
    warmup_epochs: int = 10
    restart_epochs: int = 5
    lr_min: float = 1e-5
    patience: int = 5
    focal_gamma: float = 2.0
    class_balance_beta: float = 0.9999
    use_focal_loss: bool = True
    ema_decay: float = 0.995
    use_ema: bool = True
    grad_clip: float = 1.0
    edge_mask_max_fraction: float = 0.25

    @classmethod
    def from_params(cls, section: dict) -> "TrainConfig":
        known = {k: v for k, v in section.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def edge_mask(flux: torch.Tensor, max_fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Cut a random 0..max_fraction of each spectrum's covered span at each end, re-normalised.

    flux (B, L); the covered span is first..last non-zero bin. Emulates spectra whose blue or
    red end is lost (dichroic, sky, detector edge). The kept bins are re-normalised to zero mean
    and unit variance, as the preprocessing does to a spectrum that is really that short (and as
    the narrow-coverage evaluation does), so a cut spectrum looks like a short real one.
    """
    if max_fraction <= 0:
        return flux
    batch, length = flux.shape
    index = torch.arange(length, device=flux.device).expand(batch, length)  # (B, L)
    nonzero = flux != 0
    first = torch.where(nonzero, index, length).amin(dim=1)  # (B,)
    last = torch.where(nonzero, index, -1).amax(dim=1)  # (B,)
    span = (last - first + 1).clamp_min(0).float()
    cut = torch.rand((2, batch), generator=generator).to(flux.device) * max_fraction  # (2, B)
    lo = first + (cut[0] * span).long()
    hi = last - (cut[1] * span).long()
    keep = (index >= lo[:, None]) & (index <= hi[:, None]) & nonzero  # (B, L)
    n_kept = keep.sum(dim=1, keepdim=True).clamp_min(1)  # (B, 1)
    mean = (flux * keep).sum(dim=1, keepdim=True) / n_kept
    std = ((((flux - mean) * keep) ** 2).sum(dim=1, keepdim=True) / n_kept).sqrt()
    return torch.where(keep, (flux - mean) / std.clamp_min(1e-6), torch.zeros_like(flux))


def make_scheduler(optimizer, cfg: TrainConfig):
    """Linear warm-up for ``warmup_epochs`` then cosine warm restarts (T_0 = restart_epochs)."""
    restarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=cfg.restart_epochs, eta_min=cfg.lr_min)
    if cfg.warmup_epochs <= 0:
        return restarts
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (cfg.warmup_epochs + 1),
                                               total_iters=cfg.warmup_epochs)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, restarts],
                                                 milestones=[cfg.warmup_epochs])


@torch.no_grad()
def predict(model: torch.nn.Module, flux: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Model outputs for (N, L) flux, in batches, in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    outputs = [model(flux[i:i + batch_size].to(device)).float().cpu()
               for i in range(0, len(flux), batch_size)]
    model.train(was_training)
    return torch.cat(outputs)


def classifier_objective(labels_train: torch.Tensor, n_classes: int, cfg: TrainConfig,
                         headline: Sequence[int] | None = None):
    """(loss_fn, score_fn) for classification: focal/CE loss; validation macro-F1.

    The macro-F1 is ``classification_metrics``' over the class indices ``headline`` (default:
    every class), the same score the book reports, so early stopping watches what is scored.
    """
    names = [str(k) for k in range(n_classes)]
    headline_names = names if headline is None else [names[k] for k in headline]
    counts = torch.bincount(labels_train, minlength=n_classes)
    alpha = class_balanced_weights(counts, cfg.class_balance_beta) if cfg.use_focal_loss else None
    gamma = cfg.focal_gamma if cfg.use_focal_loss else 0.0

    def loss_fn(output, target):
        return focal_loss(output, target, alpha=alpha, gamma=gamma)

    def score_fn(model, flux_val, labels_val):
        logits = predict(model, flux_val)
        val_loss = float(loss_fn(logits, labels_val))
        proba = torch.softmax(logits, dim=1).numpy()
        metrics = classification_metrics(labels_val.numpy(), proba, names, headline_names)
        return metrics["macro_f1"], {"val_loss": val_loss, "val_macro_f1": metrics["macro_f1"],
                                     "val_accuracy": metrics["accuracy"]}

    return loss_fn, score_fn


def redshift_objective():
    """(loss_fn, score_fn) for redshift: MSE on z; the score is minus the validation loss."""

    def loss_fn(output, target):
        return torch.mean((output.float() - target.float()) ** 2)

    def score_fn(model, flux_val, z_val):
        z_pred = predict(model, flux_val)
        val_loss = float(loss_fn(z_pred, z_val))
        delta = (z_pred - z_val) / (1.0 + z_val)
        return -val_loss, {"val_loss": val_loss,
                           "val_rms_dz": float(torch.sqrt(torch.mean(delta ** 2)))}

    return loss_fn, score_fn


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


def fit(model: torch.nn.Module, flux_train: torch.Tensor, target_train: torch.Tensor,
        flux_val: torch.Tensor, target_val: torch.Tensor, cfg: TrainConfig,
        loss_fn: Callable, score_fn: Callable, state_path: Path | None = None,
        run_id: str = "", progress: bool = True) -> dict:
    """Train ``model`` in place; return the best (EMA) weights, history and best score.

    Training runs on the device of ``model``'s parameters (bf16 autocast on CUDA); the data
    may be on the CPU. ``score_fn(model, flux_val, target_val) -> (score, row)``: higher score
    is better; ``row`` joins the history. If ``state_path`` holds the state of the same run
    (``run_id``) the run resumes from its last completed epoch.

    Under a torch.distributed process group (torchrun; see ``training.distributed``) each
    rank trains on its share of every global batch of ``cfg.batch_size`` and the result
    matches one process's; rank 0 validates and writes ``state_path``. Every rank returns the
    same result.
    """
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    use_amp = device.type == "cuda"
    state = {"epoch": 0, "history": [], "best_score": -math.inf, "best_epoch": -1,
             "best_state_dict": None, "stale_epochs": 0}
    saved = load_resume_state(state_path, run_id)
    if saved is not None:
        model.load_state_dict(saved["model"])
        ema.load_state_dict(saved["ema"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        generator.set_state(saved["generator"])
        by_rank = saved.get("rng_by_rank") or [{"cpu": saved["torch_rng"]}]
        set_rng_state(by_rank[distributed.rank() % len(by_rank)], device)
        state = saved["loop"]
        if progress and distributed.is_main():
            print(f"resuming {run_id} after epoch {state['epoch']}")
    n_train = len(flux_train)
    n_epoch = min(cfg.samples_per_epoch or n_train, n_train)
    distributed.check_batches(n_epoch, cfg.batch_size)
    network = distributed.wrap(model, device)  # DDP averages gradients over ranks
    epochs = tqdm(range(state["epoch"], cfg.max_epochs), desc="epochs", unit="epoch",
                  disable=not progress or not distributed.is_main(), initial=state["epoch"],
                  total=cfg.max_epochs)
    for epoch in epochs:
        if state["stale_epochs"] >= cfg.patience:
            break
        started = time.perf_counter()
        network.train()
        # A fresh random draw from the pool of realisations each epoch: epoch time stays fixed
        # however many realisations the pool holds. Every rank draws the same order.
        order = torch.randperm(n_train, generator=generator)[:n_epoch]
        # float64, as Python's float summed the per-batch losses before (same CPU numbers),
        # and kept on the device so the GPU is not waited for at every step.
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start:start + cfg.batch_size]
            # The edge masks of the whole global batch: the generator stays in step on all ranks.
            flux = edge_mask(flux_train[batch], cfg.edge_mask_max_fraction, generator)
            mine = distributed.shard(len(batch))
            flux, target = flux[mine].to(device), target_train[batch[mine]].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = loss_fn(network(flux), target)
            optimizer.zero_grad(set_to_none=True)
            if distributed.world_size() > 1:
                (loss * distributed.share_weight(len(flux), len(batch))).backward()
            else:
                loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            ema.update_parameters(model)
            total_loss += loss.detach().double() * len(flux)
        train_loss = float(distributed.sum_over_ranks(total_loss)) / len(order)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        evaluated = ema.module if cfg.use_ema else model
        # Validation on rank 0 alone: every rank then takes the same early-stopping decision.
        score, row = distributed.broadcast_from_main(
            score_fn(evaluated, flux_val, target_val) if distributed.is_main() else None)
        row = {"epoch": epoch + 1, "train_loss": train_loss, **row, "lr": lr,
               "seconds": time.perf_counter() - started}
        state["history"].append(row)
        state["epoch"] = epoch + 1
        if score > state["best_score"]:
            state.update(best_score=score, best_epoch=epoch + 1, stale_epochs=0,
                         best_state_dict=copy.deepcopy(evaluated.state_dict()))
        else:
            state["stale_epochs"] += 1
        epochs.set_postfix(loss=f"{row['train_loss']:.4f}", score=f"{score:.4f}")
        if state_path is not None:
            rngs = distributed.gather_to_all(rng_state(device))
            if distributed.is_main():
                with atomic_path(state_path) as tmp:
                    torch.save({"run_id": run_id, "model": model.state_dict(),
                                "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                                "scheduler": scheduler.state_dict(),
                                "generator": generator.get_state(), "rng_by_rank": rngs,
                                "loop": state}, tmp)
            distributed.barrier()
    return {"state_dict": state["best_state_dict"], "history": state["history"],
            "best_score": state["best_score"], "best_epoch": state["best_epoch"],
            "epochs_run": state["epoch"]}


def to_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def recipe_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
