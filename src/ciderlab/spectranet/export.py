"""Export SpectraNet checkpoints to ONNX with a JSON sidecar, for alert brokers without ciderlab."""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ciderlab import __version__
from ciderlab.errors import InputError
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig

OPSET = 18  # onnxruntime >= 1.14 runs it; the torch exporter's default in 2.13
INPUT_NAME = "flux"
# ONNX Runtime and torch agree to ~1e-6 on float32; anything near this is a broken export.
MAX_ABS_DIFF = 1e-3


class ExportedSpectraNet(nn.Module):
    """SpectraNet in eval mode with the outputs a broker reads: logits and probabilities, or z."""

    def __init__(self, model: SpectraNet):
        super().__init__()
        self.model = model

    def forward(self, flux: torch.Tensor):
        out = self.model(flux)  # (B, n_classes) logits, or (B,) redshift
        if self.model.config.head == "redshift":
            return out
        return out, F.softmax(out, dim=-1)  # (B, n_classes) each


def output_names(config: SpectraNetConfig) -> list[str]:
    """Names of the ONNX graph's outputs for a classifier or a redshift head."""
    return ["redshift"] if config.head == "redshift" else ["logits", "probabilities"]


def direct_conv_model(model: SpectraNet) -> SpectraNet:
    """The same weights in a SpectraNet that convolves directly (ONNX Conv), in eval mode.

    A config with a ``conv`` switch (FFT for long kernels) is rebuilt with ``conv="direct"``;
    the weights are the same tensors in both, so the state dict loads unchanged.
    """
    config = model.config
    if "conv" in getattr(config, "__dataclass_fields__", {}):
        config = replace(config, conv="direct")
    direct = SpectraNet(config)
    direct.load_state_dict(model.state_dict())
    return direct.eval()


def export_onnx(model: SpectraNet, opset: int = OPSET):
    """Trace ``model`` to an in-memory ONNX model with a dynamic batch axis.

    Parameters
    ----------
    model : SpectraNet
        A classifier or redshift model; its ``config.n_bins`` is the fixed input length.
    opset : int
        ONNX opset version.

    Returns
    -------
    onnx.ModelProto
        Input ``flux`` (batch, n_bins) float32; outputs ``logits`` and ``probabilities``
        (batch, n_classes), or ``redshift`` (batch,). Checked with ``onnx.checker``.
    """
    import onnx

    wrapped = ExportedSpectraNet(direct_conv_model(model)).eval()
    example = torch.zeros(2, model.config.n_bins)  # (B, L); B=2 so the batch axis stays symbolic
    # The exporter logs that torchvision's operators are skipped (we use none) and warns about
    # its own deprecations: noise for a user, nothing to act on.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                wrapped, (example,), dynamo=True, opset_version=opset, verbose=False,
                input_names=[INPUT_NAME], output_names=output_names(model.config),
                dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False)
    finally:
        registration.setLevel(level)
    proto = program.model_proto
    onnx.checker.check_model(proto, full_check=True)
    return proto


def run_onnx(proto, flux: np.ndarray) -> dict[str, np.ndarray]:
    """Run an exported model with ONNX Runtime on (B, n_bins) flux; outputs by name."""
    import onnxruntime

    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {INPUT_NAME: np.asarray(flux, dtype=np.float32)})
    return dict(zip(names, values))


def run_torch(model: SpectraNet, flux: np.ndarray) -> dict[str, np.ndarray]:
    """The same outputs as ``run_onnx``, computed by torch (eval mode, no gradients)."""
    with torch.no_grad():
        out = ExportedSpectraNet(model.eval())(torch.as_tensor(flux, dtype=torch.float32))
    out = out if isinstance(out, tuple) else (out,)
    return {name: value.numpy() for name, value in zip(output_names(model.config), out)}


def max_abs_diff(proto, model: SpectraNet, flux: np.ndarray) -> dict[str, float]:
    """Largest |ONNX Runtime - torch| of each output on the spectra ``flux`` (B, n_bins)."""
    onnx_out, torch_out = run_onnx(proto, flux), run_torch(model, flux)
    return {name: float(np.max(np.abs(onnx_out[name] - torch_out[name]))) for name in torch_out}


def check_agreement(proto, model: SpectraNet, flux: np.ndarray, where: str) -> dict[str, float]:
    """``max_abs_diff``, or an InputError naming ``where`` when an output differs too much."""
    diffs = max_abs_diff(proto, model, flux)
    bad = {name: diff for name, diff in diffs.items() if not diff <= MAX_ABS_DIFF}
    if bad:
        raise InputError(f"{where}: the ONNX export disagrees with torch ({bad}, allowed "
                         f"{MAX_ABS_DIFF}); report this with the checkpoint and torch/onnx versions")
    return diffs


def sidecar(payload: dict, checkpoint_sha256: str, opset: int = OPSET) -> dict:
    """What a broker needs beside the .onnx file: input grid, preprocessing, outputs, provenance.

    Parameters
    ----------
    payload : dict
        A checkpoint's description (``load_checkpoint``'s second value).
    checkpoint_sha256 : str
        The checkpoint file's sha256, tying the export to the weights it came from.

    Raises
    ------
    InputError
        If the checkpoint carries no preprocessing settings (written before they were stored).
    """
    config = dict(payload["model_config"])
    if "conv" in config:
        config["conv"] = "direct"  # what the graph computes (``direct_conv_model``)
    preprocess = payload.get("preprocess")
    if not preprocess:
        raise InputError("the checkpoint records no preprocessing settings, so a broker could "
                         "not prepare its input; retrain it (rerun the training stage)")
    frame = payload.get("input_frame") or ("observed" if config["head"] == "redshift" else "rest")
    prefix = "obs" if frame == "observed" else "rest"
    description = {
        "head": config["head"],
        "input": {
            "name": INPUT_NAME, "shape": ["batch", config["n_bins"]], "dtype": "float32",
            "frame": frame, "n_bins": config["n_bins"],
            "wave_min_aa": preprocess[f"{prefix}_wave_min_aa"],
            "wave_max_aa": preprocess[f"{prefix}_wave_max_aa"],
            "grid": "bin centres exp(linspace(ln wave_min_aa, ln wave_max_aa, n_bins))",
            "values": "continuum removed, zero mean and unit variance over covered bins, "
                      "0 where the spectrum has no data (ciderlab.spectra.preprocess)",
        },
        "outputs": ({"redshift": "(batch,) redshift z >= 0"} if config["head"] == "redshift"
                    else {"logits": "(batch, n_classes)",
                          "probabilities": "(batch, n_classes) softmax of the logits"}),
        "classes": payload.get("classes") if config["head"] == "classifier" else None,
        "preprocess": preprocess,
        "model_config": config,
        "opset": opset,
        "ciderlab_version": __version__,
        "checkpoint_ciderlab_version": payload.get("ciderlab_version"),
        "checkpoint_sha256": checkpoint_sha256,
        "git_revision": payload.get("git_revision"),
        "torch_version": torch.__version__,
    }
    if config["head"] == "classifier" and len(description["classes"] or []) != config["n_outputs"]:
        raise InputError(f"the checkpoint lists {len(description['classes'] or [])} classes for "
                         f"{config['n_outputs']} outputs; retrain it (rerun the training stage)")
    return description


def export_checkpoint(model: SpectraNet, payload: dict, checkpoint_sha256: str,
                      where: str, opset: int = OPSET) -> tuple[object, dict]:
    """A loaded checkpoint -> (checked ONNX model, sidecar dictionary), nothing written.

    The export is run once with ONNX Runtime on a few N(0, 1) spectra (the scale of a
    normalised input) and refused if it disagrees with torch; the sidecar records the
    largest difference. ``where`` (the checkpoint's path) names the file in errors.
    """
    try:
        description = sidecar(payload, checkpoint_sha256, opset)
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    proto = export_onnx(model, opset)
    probe = np.random.default_rng(0).standard_normal((3, model.config.n_bins))  # (B, L)
    description["check"] = {"spectra": "3 random N(0, 1) spectra, ONNX Runtime (CPU) vs torch",
                            "max_abs_diff": check_agreement(proto, model, probe, where)}
    return proto, description


def export_pair(classifier_path: str | Path, redshift_path: str | Path) -> dict:
    """Both shipped checkpoints exported and checked: head -> (ONNX model, JSON description).
    A checkpoint holding the other head is refused, naming the option to fix."""
    from ciderlab.checkpoint import load_checkpoint
    from ciderlab.io import sha256_of

    exported = {}
    for head, path in (("classifier", classifier_path), ("redshift", redshift_path)):
        model, payload = load_checkpoint(path)
        if model.config.head != head:
            raise ValueError(f"{path}: holds a {model.config.head} model; pass the {head}'s "
                             f"checkpoint to --{head}")
        exported[head] = export_checkpoint(model, payload, sha256_of(path), str(path))
    return exported
