from dataclasses import replace

import pytest
import torch
from torch import nn

from ciderlab.spectranet.fft_conv import conv1d_same_fft, fft_length
from ciderlab.spectranet.model import MultiScaleStage, SpectraNet, SpectraNetConfig

PAPER = SpectraNetConfig()  # the paper's network: 4096 bins, kernels up to 1021
DEFAULT = SpectraNetConfig(n_bins=512, channels=(16, 32, 64, 128, 256),
                           kernels=((3, 9, 127), (3, 7, 31), (3, 5, 15), (3, 3, 7), (3, 3, 3)),
                           hidden=128, fft_min_kernel=15)  # params.yaml's default profile


def relative_error(fast: torch.Tensor, plain: torch.Tensor) -> float:
    return float((fast.detach() - plain.detach()).abs().max() / plain.detach().abs().max())

# Why some comparisons below run in float64: in float32 the two paths differ by ~1e-7, enough to
# flip which of two nearly equal values a max-pool picks now and then. The outputs stay equal,
# but that gradient goes to the neighbouring bin: 1% off in one place. So float32 comparisons
# of gradients stop before the pool; whole networks, pools included, are compared in float64,
# where the FFT path also computes in float64 and must agree to ~1e-15.


def outputs_and_gradients(module: nn.Module, x: torch.Tensor):
    """The module's output, the input's gradient and every parameter's gradient."""
    module.zero_grad()
    x = x.clone().requires_grad_(True)
    out = module(x)
    # A weighting that differs per output element, so every gradient path is exercised.
    out.backward(torch.linspace(-1, 1, out.numel()).reshape(out.shape))
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    return out.detach(), x.grad, grads


def assert_same(fast_module, plain_module, x, tolerance):
    out_f, dx_f, grads_f = outputs_and_gradients(fast_module, x)
    out_p, dx_p, grads_p = outputs_and_gradients(plain_module, x)
    assert out_f.shape == out_p.shape
    assert relative_error(out_f, out_p) < tolerance
    assert relative_error(dx_f, dx_p) < tolerance
    assert grads_f.keys() == grads_p.keys()
    for name in grads_p:
        assert relative_error(grads_f[name], grads_p[name]) < tolerance, name


@pytest.mark.parametrize("in_channels, length, kernels", [
    (1, 4096, (61, 1021)),  # the paper's first stage at its real length
    (4, 37, (3, 13, 61)),   # odd length, a kernel longer than the input
    (3, 1, (7, 31)),        # one bin
])
def test_fft_branches_equal_conv1d_same_padding(in_channels, length, kernels):
    torch.manual_seed(0)
    convs = [nn.Conv1d(in_channels, 5, k, padding=k // 2) for k in kernels]
    x = torch.randn(2, in_channels, length)  # (B, C_in, L)
    fast = conv1d_same_fft(x, [c.weight for c in convs], [c.bias for c in convs])
    for conv, out in zip(convs, fast):
        expected = conv(x)  # cross-correlation, not convolution: a flipped kernel would fail
        assert out.shape == expected.shape == (2, 5, length)
        assert relative_error(out, expected) < 1e-5


def test_fft_length_is_the_next_5_smooth_number():
    assert [fft_length(n) for n in (1, 7, 11, 97, 1149, 4606)] == [1, 8, 12, 100, 1152, 4608]
    with pytest.raises(ValueError, match="n must be >= 1"):
        fft_length(0)


@pytest.mark.parametrize("config, stage, in_channels, length", [
    (PAPER, 0, 1, 4096),   # kernels (3, 61, 1021) at the paper's 4096 bins
    (PAPER, 1, 64, 1024),  # kernels (3, 31, 251), 64 -> 128 channels at 1024 bins
    (DEFAULT, 0, 1, 513),  # kernel 127 at an odd length
])
def test_stage_outputs_and_gradients_equal_the_plain_stage_in_float32(config, stage, in_channels,
                                                                       length):
    torch.manual_seed(0)
    kernels, channels = config.kernels[stage], config.channels[stage]
    # reduce=False: the branches, concatenation, LayerNorm and GELU, without the pool (above).
    plain = MultiScaleStage(in_channels, channels, kernels, config.pool, reduce=False)
    fast = MultiScaleStage(in_channels, channels, kernels, config.pool, reduce=False,
                           use_fft=tuple(k >= 31 for k in kernels))
    fast.load_state_dict(plain.state_dict())
    batch = 1 if in_channels > 1 else 2  # keeps the plain 251-kernel stage to about a second
    assert_same(fast, plain, torch.randn(batch, in_channels, length), tolerance=1e-5)


@pytest.mark.parametrize("profile, length", [
    ("default", 512), ("default", 509), ("default", 7),  # 509, 7: not multiples of the pool
    ("paper", 7),  # kernels longer than the input (the full length in float32 above)
])
def test_whole_network_outputs_and_gradients_equal_the_plain_network(profile, length):
    torch.manual_seed(0)
    config = DEFAULT if profile == "default" else PAPER
    plain = SpectraNet(replace(config, conv="direct")).double().eval()  # eval: no dropout draws
    # Every branch through the FFT, not only the ones the threshold picks.
    fast = SpectraNet(replace(config, fft_min_kernel=3)).double().eval()
    fast.load_state_dict(plain.state_dict())
    assert_same(fast, plain, torch.randn(2, length, dtype=torch.float64), tolerance=1e-10)


def test_paper_network_forward_equals_the_plain_network():
    torch.manual_seed(0)
    plain = SpectraNet(replace(PAPER, conv="direct")).eval()
    fast = SpectraNet(PAPER).eval()
    fast.load_state_dict(plain.state_dict())
    flux = torch.randn(1, 4096)
    with torch.no_grad():
        assert relative_error(fast(flux), plain(flux)) < 1e-5


def test_weights_are_interchangeable_between_plain_and_fast():
    plain, fast = SpectraNet(replace(DEFAULT, conv="direct")), SpectraNet(DEFAULT)
    assert plain.state_dict().keys() == fast.state_dict().keys()
    # Both ways round: a fast model's weights load into a plain one (e.g. for ONNX export).
    plain.load_state_dict(fast.state_dict())
    flux = torch.randn(2, 512)
    with torch.no_grad():
        assert relative_error(fast.eval()(flux), plain.eval()(flux)) < 1e-5


def test_an_old_checkpoint_config_without_the_new_keys_builds_the_fast_network():
    old = {k: v for k, v in DEFAULT.to_dict().items() if k not in ("conv", "fft_min_kernel")}
    config = SpectraNetConfig(**old)
    assert config.conv == "fft" and config.fft_min_kernel == SpectraNetConfig.fft_min_kernel


@pytest.mark.parametrize("config, threshold, expected", [
    (DEFAULT, 15, [(False, False, True), (False, False, True), (False, False, True),
                   (False, False, False), (False, False, False)]),
    (PAPER, 61, [(False, True, True), (False, False, True), (False, False, True),
                 (False, False, False), (False, False, False)]),
    (PAPER, 1, [(True, True, True)] * 5),
])
def test_the_threshold_picks_the_kernels_at_least_that_long(config, threshold, expected):
    model = SpectraNet(replace(config, fft_min_kernel=threshold))
    assert [stage.use_fft for stage in model.stages] == expected
    direct = SpectraNet(replace(config, conv="direct", fft_min_kernel=threshold))
    assert all(not any(stage.use_fft) for stage in direct.stages)


def test_under_autocast_the_fft_branches_match_the_direct_dtype():
    torch.manual_seed(0)
    conv = nn.Conv1d(2, 3, 31, padding=15)
    x = torch.randn(2, 2, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (fast,) = conv1d_same_fft(x, [conv.weight], [conv.bias])
        direct = conv(x)
    assert fast.dtype == direct.dtype == torch.bfloat16
    # Computed in float32 and rounded once: as close to the exact result as bf16 allows.
    assert relative_error(fast.float(), conv(x).detach()) < 1e-2


def test_config_rejects_unknown_conv_modes():
    with pytest.raises(ValueError, match="unknown conv 'winograd'"):
        SpectraNetConfig(conv="winograd")
    with pytest.raises(ValueError, match="fft_min_kernel must be >= 1"):
        SpectraNetConfig(fft_min_kernel=0)
