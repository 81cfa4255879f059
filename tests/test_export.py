import json

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch

from ciderlab.cli import main
from ciderlab.io import sha256_of
from ciderlab.spectranet.templates import load_template_bank
from ciderlab.checkpoint import load_checkpoint, save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.spectranet.realise import realise_spectra
from conftest import SMALL_REALISE_CONFIG

CFG = SMALL_REALISE_CONFIG  # 256-bin grids
CLASSES = ["AGN", "SN IIP", "SN IIb", "SN IIn", "SN Ia", "SN Ib", "SN Ic"]
# The smoke profile's network (params.yaml), random weights: export does not care how good
# the weights are, only that ONNX Runtime computes what torch does.
SMOKE = dict(n_bins=CFG.preprocess.n_bins, channels=(8, 16, 16, 32, 32), hidden=32, dropout=0.1,
             kernels=((3, 7, 31), (3, 5, 15), (3, 3, 7), (3, 3, 3), (3, 3, 3)))


def write_checkpoint(path, head):
    config = SpectraNetConfig(head=head, n_outputs=len(CLASSES) if head == "classifier" else 1,
                              **SMOKE)
    torch.manual_seed(0 if head == "classifier" else 1)
    save_checkpoint(path, SpectraNet(config), classes=CLASSES,
                    preprocess=CFG.preprocess.to_dict(),
                    input_frame="rest" if head == "classifier" else "observed")
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both smoke-size checkpoints exported once through the CLI: {head: (checkpoint, out)}."""
    root = tmp_path_factory.mktemp("export")
    checkpoints = {head: write_checkpoint(root / f"{head}.pt", head)
                   for head in ("classifier", "redshift")}
    out = root / "out"
    assert main(["export", "--onnx", "--classifier", str(checkpoints["classifier"]),
                 "--redshift", str(checkpoints["redshift"]), "--out", str(out)]) == 0
    return checkpoints, out


@pytest.fixture
def realised(tiny_wheel):
    """SEDM-like spectra, with continua and noise, realised and preprocessed by ciderlab."""
    bank = load_template_bank(tiny_wheel)
    spectra = [s for s in bank.spectra if s.sn_type == "Ia"]
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    labels = pd.DataFrame({"object_id": [s.name for s in spectra], "label": "SN Ia"})
    counts = np.full(len(spectra), 4)  # 3 template spectra x 4 = 12 spectra
    return realise_spectra(bank.wave_rest_aa, spectra, labels, hosts, CFG, counts=counts,
                           progress=False)


def session(path):
    """What a broker does: open the .onnx with ONNX Runtime alone."""
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run(path, flux):
    return dict(zip(["a", "b"], session(path).run(None, {"flux": flux.astype(np.float32)})))


def test_onnx_runtime_agrees_with_torch_on_realised_spectra(exported, realised):
    checkpoints, out = exported
    classifier, _ = load_checkpoint(checkpoints["classifier"])
    redshift, _ = load_checkpoint(checkpoints["redshift"])
    with torch.no_grad():
        logits = classifier(torch.as_tensor(realised.flux_rest)).numpy()
        z = redshift(torch.as_tensor(realised.flux_obs)).numpy()
    onnx_logits, onnx_proba = session(out / "classifier.onnx").run(
        ["logits", "probabilities"], {"flux": realised.flux_rest})
    (onnx_z,) = session(out / "redshift.onnx").run(["redshift"], {"flux": realised.flux_obs})
    diffs = {"logits": np.abs(onnx_logits - logits).max(),
             "probabilities": np.abs(onnx_proba - torch.softmax(torch.as_tensor(logits), -1)
                                     .numpy()).max(),
             "redshift": np.abs(onnx_z - z).max()}
    print(f"ONNX Runtime vs torch on {len(realised.meta)} realised spectra: {diffs}")
    assert diffs["logits"] < 1e-4 and diffs["probabilities"] < 1e-5 and diffs["redshift"] < 1e-4
    assert np.array_equal(onnx_logits.argmax(1), logits.argmax(1))
    assert np.allclose(onnx_proba.sum(1), 1, atol=1e-6)
    assert np.all(onnx_z >= 0)


def test_any_batch_size_runs_and_rows_do_not_interact(exported, realised):
    _, out = exported
    for name, flux, width in (("classifier", realised.flux_rest, len(CLASSES)),
                              ("redshift", realised.flux_obs, None)):
        model = session(out / f"{name}.onnx")
        seven = model.run(None, {"flux": flux[:7]})[0]
        one = model.run(None, {"flux": flux[3:4]})[0]
        assert seven.shape == ((7, width) if width else (7,))
        assert one.shape == ((1, width) if width else (1,))
        assert np.allclose(one[0], seven[3], atol=1e-5)


def test_sidecar_is_enough_to_prepare_the_input_and_trace_the_weights(exported):
    checkpoints, out = exported
    for name, frame, wave in (("classifier", "rest", CFG.preprocess.wave_rest_aa),
                              ("redshift", "observed", CFG.preprocess.wave_obs_aa)):
        sidecar = json.loads((out / f"{name}.json").read_text())
        graph = onnx.load(out / f"{name}.onnx")
        onnx.checker.check_model(graph)
        n_bins = graph.graph.input[0].type.tensor_type.shape.dim[1].dim_value
        assert sidecar["input"]["n_bins"] == n_bins == CFG.preprocess.n_bins
        assert sidecar["input"]["frame"] == frame
        # The grid rebuilt from the sidecar's numbers alone is ciderlab's grid.
        grid = np.exp(np.linspace(np.log(sidecar["input"]["wave_min_aa"]),
                                  np.log(sidecar["input"]["wave_max_aa"]), n_bins))
        assert np.allclose(grid, wave, rtol=1e-12)
        assert sidecar["preprocess"] == CFG.preprocess.to_dict()
        assert sidecar["checkpoint_sha256"] == sha256_of(checkpoints[name])
        assert sidecar["opset"] == graph.opset_import[0].version
        assert max(sidecar["check"]["max_abs_diff"].values()) < 1e-4
    assert json.loads((out / "classifier.json").read_text())["classes"] == CLASSES


@pytest.mark.parametrize("case", ["foreign file", "redshift model as the classifier"])
def test_a_checkpoint_that_cannot_be_exported_is_named(case, exported, tmp_path, capsys):
    checkpoints, _ = exported
    classifier = tmp_path / "classifier.pt"
    if case == "foreign file":
        torch.save({"weights": torch.zeros(3)}, classifier)
        expected = "not a ciderlab checkpoint"
    else:
        classifier = checkpoints["redshift"]
        expected = "pass the classifier's checkpoint to --classifier"
    out = tmp_path / "out"
    code = main(["export", "--onnx", "--classifier", str(classifier),
                 "--redshift", str(checkpoints["redshift"]), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ciderlab export: error: ") and str(classifier) in err
    assert expected in err and "Traceback" not in err
    assert not out.exists()
