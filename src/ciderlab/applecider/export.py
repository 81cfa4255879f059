"""AppleCiDEr's fused alert model (the ``ztf`` mode's fold ensemble, scaling included) as ONNX
with a JSON sidecar, checked against torch: what a broker runs without ciderlab."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import torch

from ciderlab import __version__
from ciderlab.applecider.alerts.metadata import METADATA_FIELDS
from ciderlab.applecider.ensemble import AlertEnsemble, ensemble_probabilities
from ciderlab.applecider.photometry_transformer import EVENT_CHANNELS
from ciderlab.errors import InputError
from ciderlab.spectranet.export import MAX_ABS_DIFF, OPSET

INPUT_NAMES = ("events", "padding", "cutouts", "metadata")
OUTPUT_NAME = "probabilities"


def export_alert_onnx(ensemble: AlertEnsemble, opset: int = OPSET):
    """Trace ``ensemble`` to an in-memory ONNX model, batch and event axes dynamic.

    Returns
    -------
    onnx.ModelProto
        Inputs ``events`` (batch, n_events, 8) float32, ``padding`` (batch, n_events) bool,
        ``cutouts`` (batch, 3, 63, 63) float32, ``metadata`` (batch, n_fields) float64;
        output ``probabilities`` (batch, n_classes). Checked with ``onnx.checker``.
    """
    import onnx

    ensemble = ensemble.eval()
    n_events = 4  # example trace shapes; both axes stay symbolic
    example = (torch.zeros(2, n_events, len(EVENT_CHANNELS)),
               torch.zeros(2, n_events, dtype=torch.bool),
               torch.zeros(2, 3, 63, 63),
               torch.zeros(2, len(METADATA_FIELDS), dtype=torch.float64))
    batch, events = torch.export.Dim("batch"), torch.export.Dim("events", max=4096)
    shapes = ({0: batch, 1: events}, {0: batch, 1: events}, {0: batch}, {0: batch})
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's own deprecation notes
            program = torch.onnx.export(
                ensemble, example, dynamo=True, opset_version=opset, verbose=False,
                input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                dynamic_shapes=shapes, external_data=False,
                # onnxscript's graph rewriter took half the export time (measured on the 5 fold
                # models: 59 s -> 35 s); ONNX Runtime optimises the graph when it loads it.
                optimize=False)
    finally:
        registration.setLevel(level)
    proto = program.model_proto
    onnx.checker.check_model(proto, full_check=True)
    return proto


def run_alert_onnx(proto, arrays: tuple) -> np.ndarray:
    """Probabilities from ONNX Runtime for ``ensemble_arrays`` output."""
    import onnxruntime

    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    events, padding, cutouts, metadata = arrays
    feed = {"events": np.asarray(events, np.float32), "padding": np.asarray(padding, bool),
            "cutouts": np.asarray(cutouts, np.float32), "metadata": np.asarray(metadata, np.float64)}
    return session.run([OUTPUT_NAME], feed)[0]


def probe_arrays(n_alerts: int = 4, n_events: int = 12, seed: int = 0) -> tuple:
    """Random inputs of the right shapes, with trailing padding and missing metadata."""
    rng = np.random.default_rng(seed)
    events = rng.standard_normal((n_alerts, n_events, len(EVENT_CHANNELS))).astype(np.float32)
    padding = np.zeros((n_alerts, n_events), bool)
    padding[0, n_events // 2:] = True
    events[padding] = 0.0
    cutouts = rng.standard_normal((n_alerts, 3, 63, 63)).astype(np.float32) / 63
    metadata = rng.standard_normal((n_alerts, len(METADATA_FIELDS)))
    metadata[rng.random(metadata.shape) < 0.2] = np.nan
    return events, padding, cutouts, metadata


def check_alert_agreement(proto, ensemble: AlertEnsemble, arrays: tuple, where: str) -> float:
    """Largest |ONNX Runtime - torch| of the probabilities on ``arrays``; an InputError naming
    ``where`` when it exceeds MAX_ABS_DIFF."""
    diff = float(np.max(np.abs(run_alert_onnx(proto, arrays)
                               - ensemble_probabilities(ensemble, arrays))))
    if not diff <= MAX_ABS_DIFF:
        raise InputError(f"{where}: the ONNX export disagrees with torch (max |diff| {diff:.2e}, "
                         f"allowed {MAX_ABS_DIFF}); report this with the models and torch/onnx "
                         "versions")
    return diff


def alert_sidecar(ensemble: AlertEnsemble, opset: int = OPSET) -> dict:
    """What a broker needs beside the .onnx file: inputs, their preparation, classes, origin."""
    payloads = ensemble.payloads
    inputs = payloads[0]["inputs"]
    return {
        "model": f"AppleCiDEr {ensemble.mode} mode: the mean of {len(payloads)} cross-validation "
                 f"fold models' class probabilities, each fold's input scaling inside the graph",
        "classes": ensemble.classes,
        "inputs": {
            "events": {"shape": ["batch", "n_events"], "dtype": "float32",
                       "channels": list(EVENT_CHANNELS),
                       "values": "unscaled (ciderlab.applecider.inputs.event_features), the "
                                 "object's events up to the alert, oldest first, at most "
                                 f"{inputs['max_events']}, zeros after the last"},
            "padding": {"shape": ["batch", "n_events"], "dtype": "bool",
                        "values": "True where there is no event (trailing)"},
            "cutouts": {"shape": ["batch", 3, inputs.get("stamp_size", 63),
                                  inputs.get("stamp_size", 63)], "dtype": "float32",
                        "values": "science, template, difference; each stamp "
                                  f"{inputs.get('stamp_normalisation', 'l2')}-normalised, NaN "
                                  "-> 0 (ciderlab.applecider.alerts.cutouts)"},
            "metadata": {"shape": ["batch", len(METADATA_FIELDS)], "dtype": "float64",
                         "fields": list(METADATA_FIELDS),
                         "values": "unscaled candidate fields and history features, NaN where "
                                   "missing or a no-match sentinel (-999) "
                                   "(ciderlab.applecider.alerts.metadata.clean_sentinels)"},
        },
        "outputs": {OUTPUT_NAME: "(batch, n_classes), summing to 1"},
        "include_limits": inputs["include_limits"],
        "towers": inputs["towers"],
        "folds": [p.get("fold") for p in payloads],
        "model_config": payloads[0]["model_config"],
        "opset": opset,
        "ciderlab_version": __version__,
        "checkpoint_ciderlab_version": payloads[0].get("ciderlab_version"),
        "torch_version": torch.__version__,
    }
