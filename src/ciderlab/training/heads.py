"""SpectraNet's two heads, each one object: what it reads, what it learns, how it is scored.

Nothing else in ciderlab branches on a head's name: a stage looks the head up in ``HEADS`` and
asks it for its input frame, targets, loss, validation score (and which way is better), and
predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from ciderlab import prediction
from ciderlab.data.labels import class_indices
from ciderlab.evaluation.metrics import classification_metrics
from ciderlab.training.losses import class_balanced_weights, focal_loss


@dataclass(frozen=True)
class Objective:
    """A training run's loss and validation score.

    ``loss(network, inputs, target, epoch, generator)`` is the batch loss; ``score(model,
    inputs, target)`` returns (score, history row), higher is better; None trains a fixed
    number of epochs and keeps the last weights. ``phase(epoch)`` names an epoch's phase in
    the history (e.g. pre-training), when a run has several.
    """

    loss: Callable
    score: Callable | None = None
    phase: Callable | None = None


@dataclass(frozen=True)
class Head:
    name: str
    frame: str               # "rest" (rest-frame flux) or "observed" (observed-frame flux)
    metric: str              # the validation metric a checkpoint records
    higher_is_better: bool   # of ``metric``; the loop maximises ``score`` = +-metric

    def inputs(self, spectra) -> np.ndarray:
        """The (N, L) flux this head reads from realised spectra."""
        return spectra.flux_rest if self.frame == "rest" else spectra.flux_obs

    def n_outputs(self, classes: Sequence[str]) -> int:
        raise NotImplementedError

    def targets(self, meta: pd.DataFrame, classes: Sequence[str]) -> torch.Tensor:
        raise NotImplementedError

    def objective(self, targets_train: torch.Tensor, n_outputs: int, cfg,
                  headline: Sequence[int] | None) -> Objective:
        raise NotImplementedError

    def predict(self, model: torch.nn.Module, inputs) -> np.ndarray:
        raise NotImplementedError

    def columns(self, output: np.ndarray) -> pd.DataFrame:
        """One prediction table's columns for ``predict``'s output."""
        raise NotImplementedError

    def metric_value(self, score: float) -> float:
        """The recorded metric of a loop score."""
        return score if self.higher_is_better else -score


class ClassifierHead(Head):
    def n_outputs(self, classes):
        return len(classes)

    def targets(self, meta, classes):
        return torch.as_tensor(class_indices(meta["label"], classes))

    def objective(self, targets_train, n_outputs, cfg, headline=None):
        """Focal or cross-entropy loss; the validation macro-F1 over the class indices
        ``headline`` (default every class): the score the book reports, so early stopping
        watches what is scored."""
        names = [str(k) for k in range(n_outputs)]
        headline_names = names if headline is None else [names[k] for k in headline]
        counts = torch.bincount(targets_train, minlength=n_outputs)
        alpha = class_balanced_weights(counts, cfg.class_balance_beta) if cfg.use_focal_loss else None
        gamma = cfg.focal_gamma if cfg.use_focal_loss else 0.0

        def loss(network, inputs, target, epoch, generator):
            return focal_loss(network(inputs), target, alpha=alpha, gamma=gamma)

        def score(model, inputs, target):
            logits = prediction.outputs(model, inputs)
            val_loss = float(focal_loss(logits, target, alpha=alpha, gamma=gamma))
            proba = torch.softmax(logits, dim=1).numpy()
            metrics = classification_metrics(target.numpy(), proba, names, headline_names)
            return metrics["macro_f1"], {"val_loss": val_loss, "val_macro_f1": metrics["macro_f1"],
                                         "val_accuracy": metrics["accuracy"]}

        return Objective(loss, score)

    def predict(self, model, inputs):
        return prediction.probabilities(model, inputs)

    def columns(self, output):
        return pd.DataFrame(output, columns=[f"p_{k}" for k in range(output.shape[1])])


class RedshiftHead(Head):
    def n_outputs(self, classes):
        return 1

    def targets(self, meta, classes):
        return torch.as_tensor(meta["redshift"].to_numpy(copy=True), dtype=torch.float32)

    def objective(self, targets_train, n_outputs, cfg, headline=None):
        """MSE on z; the score is minus the validation loss."""

        def mse(output, target):
            return torch.mean((output.float() - target.float()) ** 2)

        def loss(network, inputs, target, epoch, generator):
            return mse(network(inputs), target)

        def score(model, inputs, target):
            z_pred = prediction.outputs(model, inputs)
            val_loss = float(mse(z_pred, target))
            delta = (z_pred - target) / (1.0 + target)
            return -val_loss, {"val_loss": val_loss,
                               "val_rms_dz": float(torch.sqrt(torch.mean(delta ** 2)))}

        return Objective(loss, score)

    def predict(self, model, inputs):
        return prediction.redshifts(model, inputs)

    def columns(self, output):
        return pd.DataFrame({"redshift_pred": output})


CLASSIFIER = ClassifierHead("classifier", "rest", "val_macro_f1", True)
REDSHIFT = RedshiftHead("redshift", "observed", "val_loss", False)
HEADS = {head.name: head for head in (CLASSIFIER, REDSHIFT)}
