"""Devices: resolving --device, determinism settings, checkpoints that load on any device."""

import pytest
import torch

from ciderlab.cli import main
from ciderlab.errors import InputError
from ciderlab.checkpoint import load_checkpoint, save_checkpoint
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.device import configure_determinism, resolve_device

HAS_CUDA = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
no_gpu = pytest.mark.skipif(HAS_CUDA, reason="this machine has a GPU")
TINY = SpectraNetConfig(n_bins=32, n_outputs=3, channels=(4, 4, 8), kernels=((3, 5, 9),) * 3,
                        hidden=8)


def test_auto_is_the_gpu_where_there_is_one_else_the_cpu():
    assert resolve_device("auto").type == ("cuda" if HAS_CUDA else "cpu")
    assert resolve_device(None) == resolve_device("auto")
    assert resolve_device(" CPU ") == torch.device("cpu")


@no_gpu
def test_asking_for_a_gpu_without_one_says_what_to_pass_instead():
    for name in ("cuda", "cuda:1"):
        with pytest.raises(InputError, match=f"device '{name}': this machine has no CUDA GPU.*"
                                             "--device cpu"):
            resolve_device(name)


def test_an_unknown_device_name_lists_the_choices():
    for name in ("gpu", "mps", "cuda:x"):
        with pytest.raises(InputError, match="'auto', 'cpu', 'cuda' or 'cuda:N'"):
            resolve_device(name)


@needs_gpu
def test_a_gpu_beyond_the_machines_is_refused_and_torchrun_ranks_get_their_own():
    count = torch.cuda.device_count()
    with pytest.raises(InputError, match=f"GPU number {count} asked for"):
        resolve_device(f"cuda:{count}")
    with pytest.raises(InputError, match="--nproc-per-node"):
        resolve_device("cuda", local_rank=count)
    assert resolve_device("cuda", local_rank=count - 1) == torch.device("cuda", count - 1)
    assert resolve_device("auto") == torch.device("cuda", 0)


def test_cpu_runs_keep_the_global_settings_as_they_are():
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    configure_determinism(torch.device("cpu"))
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark) == before


@needs_gpu
def test_gpu_runs_turn_the_autotuner_off_and_ask_for_deterministic_kernels():
    try:
        configure_determinism(torch.device("cuda", 0))
        assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def saved_model(tmp_path, device):
    torch.manual_seed(0)
    model = SpectraNet(TINY).to(device).eval()
    path = tmp_path / "model.pt"
    save_checkpoint(path, model)
    return model, path


@pytest.mark.parametrize("map_location", ["cpu", torch.device("cpu")])
def test_a_checkpoint_loads_onto_the_device_asked_for(tmp_path, map_location):
    model, path = saved_model(tmp_path, "cpu")
    loaded, _ = load_checkpoint(path, map_location=map_location)
    assert {p.device for p in loaded.parameters()} == {torch.device("cpu")}
    flux = torch.randn(2, 32)
    with torch.no_grad():
        assert torch.equal(loaded(flux), model(flux))


@needs_gpu
def test_a_checkpoint_saved_on_the_gpu_loads_on_the_cpu_and_back(tmp_path):
    model, path = saved_model(tmp_path, "cuda:0")
    on_cpu, _ = load_checkpoint(path, map_location="cpu")
    on_gpu, _ = load_checkpoint(path, map_location=torch.device("cuda", 0))
    assert {p.device.type for p in on_cpu.parameters()} == {"cpu"}
    assert {p.device.type for p in on_gpu.parameters()} == {"cuda"}
    flux = torch.randn(2, 32)
    with torch.no_grad():
        # not bit-identical: cuDNN convolutions on the GPU round through TF32
        assert torch.allclose(on_cpu(flux), model(flux.cuda()).cpu(), atol=2e-3)
        assert torch.equal(on_gpu(flux.cuda()), model(flux.cuda()))


@no_gpu
def test_the_cli_refuses_a_gpu_it_does_not_have_in_one_line(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("device: auto\n")
    code = main(["evaluate", "--params", str(params), "--device", "cuda",
                 "--classifier", str(tmp_path / "missing.pt")])
    assert code == 1
    assert "ciderlab evaluate: error: device 'cuda': this machine has no CUDA GPU" in \
        capsys.readouterr().err


@no_gpu
def test_the_command_line_device_overrides_params(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("device: cuda\n")  # would fail here; --device cpu wins
    code = main(["evaluate", "--params", str(params), "--device", "cpu",
                 "--classifier", str(tmp_path / "missing.pt")])
    err = capsys.readouterr().err
    assert code == 1 and "no checkpoint" in err and "no CUDA GPU" not in err
