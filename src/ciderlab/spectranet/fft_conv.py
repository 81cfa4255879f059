"""Exact 'same' 1-D cross-correlation (what nn.Conv1d computes) through the FFT, for long kernels.

Imports only torch. A direct convolution costs ``C_in * C_out * K * L`` multiply-accumulates;
through the FFT it costs two transforms of the data, ``C_in * C_out`` complex products per
frequency and the kernels' spectra (a ``K``-column DFT matmul). Several kernels applied to the
same input (the branches of a SpectraNet stage) share one forward transform, one batched product
and one inverse transform. The transforms run along the length axis of channels-last (B, L, C)
data, so a caller working in that layout never transposes the activations.

The result equals ``nn.Conv1d(C_in, C_out, K, padding=K // 2)`` up to float32 rounding, for odd
``K``, any input length, and in both directions (CircularCorrelation writes out the gradients).
"""

from __future__ import annotations

import functools
import math

import torch
from torch.nn import functional as F


def fft_length(n: int) -> int:
    """The smallest ``2^a 3^b 5^c >= n``: lengths the FFT libraries transform fastest.

    Parameters
    ----------
    n : int
        The shortest acceptable transform length (>= 1).
    """
    if n < 1:
        raise ValueError(f"fft_length: n must be >= 1, got {n}")
    best = 1 << (n - 1).bit_length()  # the next power of two always qualifies
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            length = power35
            while length < n:
                length *= 2
            best = min(best, length)
            power35 *= 3
        power5 *= 5
    return best


@functools.lru_cache(maxsize=32)  # a few (n, K) per network; recomputing took ~2% of a step
def _dft_matrices(n: int, kernel_size: int, dtype: torch.dtype, device) -> torch.Tensor:
    """cos and -sin of ``2 pi f j / n`` for f < n//2+1, j < kernel_size: shape (2, F, K).

    ``D[0] @ w`` and ``D[1] @ w`` are the real and imaginary parts of ``rfft(w, n)`` for a
    length-K ``w``. Built in float64 with the angle reduced mod n, then cast once.
    """
    # Cached, so never an inference-mode tensor: a later training step saves it for backward.
    with torch.inference_mode(False):
        freqs = torch.arange(n // 2 + 1, dtype=torch.int64, device=device)
        lags = torch.arange(kernel_size, dtype=torch.int64, device=device)
        angle = (freqs[:, None] * lags[None, :] % n).to(torch.float64) * (2 * math.pi / n)  # (F, K)
        return torch.stack([torch.cos(angle), -torch.sin(angle)]).to(dtype)  # (2, F, K)


class CircularCorrelation(torch.autograd.Function):
    """``z[b, o, s] = sum_c sum_j w[o, c, j] x[b, c, (s + j) mod n]`` through length-``n`` FFTs.

    Written out (rather than left to autograd) so that every per-frequency product is a real
    batched matmul on contiguous operands. The kernels' spectrum is kept as separate real and
    imaginary planes, each (F, C_out, C_in), computed (and its gradient taken back to the K
    taps) as a matmul with a K-column DFT matrix: for a short kernel and a large C_out * C_in
    that is several times cheaper than a zero-padded rfft of every kernel along a strided axis
    followed by a transposing copy, which took most of a CPU training step's FFT time. The
    gradients are the adjoint circular operations: ``dx`` a circular convolution of ``dz``
    with ``w``, ``dw`` the circular correlation of ``x`` with ``dz`` at lags 0..K-1.
    """

    @staticmethod
    def forward(ctx, x, kernel, n):  # x: (B, L <= n, C_in), kernel: (C_out, C_in, K <= n)
        batch, _, in_channels = x.shape
        out_channels, _, kernel_size = kernel.shape
        ctx.length, ctx.n = x.shape[1], n
        freqs = n // 2 + 1
        dft = _dft_matrices(n, kernel_size, kernel.dtype, kernel.device)  # (2, F, K)
        # Real and imaginary planes of rfft(kernel, n), each (F, C_out, C_in).
        kernel_re = (dft[0] @ kernel.reshape(-1, kernel_size).T).reshape(freqs, out_channels,
                                                                         in_channels)
        kernel_im = (dft[1] @ kernel.reshape(-1, kernel_size).T).reshape(freqs, out_channels,
                                                                         in_channels)
        # [Re x_f; Im x_f] stacked along the batch: (F, 2B, C_in), contiguous (a strided bmm
        # operand sent CPU bmm down a per-matrix path that was 50x slower).
        x_freq = torch.view_as_real(torch.fft.rfft(x, n=n, dim=1))  # (B, F, C_in, 2)
        x_stacked = x_freq.permute(1, 3, 0, 2).reshape(freqs, 2 * batch, in_channels)
        # Correlation multiplies by the kernel's conjugate: z_f = x_f conj(w_f)^T.
        p = torch.bmm(x_stacked, kernel_re.transpose(1, 2))  # (F, 2B, C_out)
        q = torch.bmm(x_stacked, kernel_im.transpose(1, 2))  # (F, 2B, C_out)
        z_re = p[:, :batch] + q[:, batch:]  # (F, B, C_out)
        z_im = p[:, batch:] - q[:, :batch]  # (F, B, C_out)
        ctx.save_for_backward(x_stacked, kernel_re, kernel_im, dft)
        z_freq = torch.complex(z_re, z_im).transpose(0, 1)  # (B, F, C_out)
        return torch.fft.irfft(z_freq, n=n, dim=1)  # (B, n, C_out)

    @staticmethod
    def backward(ctx, grad_z):  # grad_z: (B, n, C_out)
        x_stacked, kernel_re, kernel_im, dft = ctx.saved_tensors
        n = ctx.n
        freqs, out_channels, in_channels = kernel_re.shape
        batch = x_stacked.shape[1] // 2
        with torch.autocast(grad_z.device.type, enabled=False):
            grad_freq = torch.fft.rfft(grad_z.to(kernel_re.dtype), dim=1)  # (B, F, C_out)
            grad_stacked = torch.view_as_real(grad_freq).permute(1, 3, 0, 2).reshape(
                freqs, 2 * batch, out_channels)  # (F, 2B, C_out)
            grad_x = grad_kernel = None
            if ctx.needs_input_grad[0]:  # dx_f = dz_f w_f
                p = torch.bmm(grad_stacked, kernel_re)  # (F, 2B, C_in)
                q = torch.bmm(grad_stacked, kernel_im)  # (F, 2B, C_in)
                grad_x_freq = torch.complex(p[:, :batch] - q[:, batch:],
                                            q[:, :batch] + p[:, batch:])  # (F, B, C_in)
                grad_x = torch.fft.irfft(grad_x_freq.transpose(0, 1), n=n, dim=1)  # (B, n, C_in)
                grad_x = grad_x[:, :ctx.length]  # (B, L, C_in)
            if ctx.needs_input_grad[1]:
                # dw_f = conj(dz_f)^T x_f, summed over the batch, as two real products.
                x_re, x_im = x_stacked[:, :batch], x_stacked[:, batch:]
                x_swapped = torch.cat([x_im, -x_re], dim=1)  # (F, 2B, C_in)
                grad_t = grad_stacked.transpose(1, 2)  # (F, C_out, 2B)
                grad_re = torch.bmm(grad_t, x_stacked).reshape(freqs, -1)  # (F, C_out * C_in)
                grad_im = torch.bmm(grad_t, x_swapped).reshape(freqs, -1)  # (F, C_out * C_in)
                # The first K taps of irfft(dw_f, n): (1/n) sum_f c_f Re(dw_f e^{2 pi i f j/n}),
                # c_f = 1 at f = 0 and at n/2 (n even), else 2.
                weight = torch.full((freqs,), 2.0 / n, dtype=dft.dtype, device=dft.device)
                weight[0] = 1.0 / n
                if n % 2 == 0:
                    weight[-1] = 1.0 / n
                grad_kernel = (dft[0].T * weight) @ grad_re  # (K, C_out * C_in)
                grad_kernel.addmm_(dft[1].T * weight, grad_im)
                grad_kernel = grad_kernel.T.reshape(out_channels, in_channels, -1)  # (C_out, C_in, K)
        return grad_x, grad_kernel, None


def conv1d_same_fft(x: torch.Tensor, weights: list[torch.Tensor],
                    biases: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """Several 'same' cross-correlations of one input, through one shared FFT.

    Branch ``b`` returns what ``F.conv1d(x, weights[b], biases[b], padding=K_b // 2)`` returns.
    The arithmetic is at least float32, even under autocast (bfloat16 transforms would lose the
    precision that makes the result exact; float64 inputs stay float64); the outputs are cast to
    the dtype a direct convolution would give (the autocast dtype when autocast is on, else
    ``x``'s), so they concatenate with it.

    Parameters
    ----------
    x : torch.Tensor
        Input, shape (B, C_in, L).
    weights : list of torch.Tensor
        One kernel per branch, shape (C_out_b, C_in, K_b), ``K_b`` odd.
    biases : list of torch.Tensor or None
        One bias per branch, shape (C_out_b,), or None.

    Returns
    -------
    list of torch.Tensor
        One output per branch, shape (B, C_out_b, L), in the order of ``weights`` (views of
        channels-last tensors).
    """
    outputs = conv1d_same_fft_channels_last(x.transpose(1, 2), weights, biases)
    return [out.transpose(1, 2) for out in outputs]  # each (B, C_out_b, L)


def conv1d_same_fft_channels_last(x: torch.Tensor, weights: list[torch.Tensor],
                                  biases: list[torch.Tensor | None]) -> list[torch.Tensor]:
    """``conv1d_same_fft`` on channels-last data: input (B, L, C_in), outputs (B, L, C_out_b).

    The layout the transforms work in, so no transposing copy is made on either side; what
    follows a SpectraNet stage's branches (LayerNorm over channels, GELU, the 1x1 reduce) runs
    in this layout too.
    """
    if not weights:
        return []
    batch, length, in_channels = x.shape
    kernel_sizes = [w.shape[-1] for w in weights]
    if any(k % 2 == 0 for k in kernel_sizes):
        raise ValueError(f"conv1d_same_fft: kernels must be odd for 'same' output, got "
                         f"{kernel_sizes}")
    device_type = x.device.type
    out_dtype = (torch.get_autocast_dtype(device_type)
                 if torch.is_autocast_enabled(device_type) else x.dtype)
    compute_dtype = torch.promote_types(x.dtype, torch.float32)
    k_max = max(kernel_sizes)
    half = k_max // 2
    # x is shifted right by `half` zeros, so branch b's 'same' output starts at half - K_b // 2.
    # Circular correlation of length n wraps the last outputs onto the zero prefix; n >= L + half
    # keeps every output that is kept free of wrapped terms (n >= L + K - 1 is not needed).
    n = fft_length(length + half)
    with torch.autocast(device_type, enabled=False):
        x_shifted = F.pad(x.to(compute_dtype), (0, 0, half, 0))  # (B, half + L, C_in)
        # All branches' kernels as one (C_out_total, C_in, K_max), zero-padded on the right.
        kernel = torch.cat([F.pad(w.to(compute_dtype), (0, k_max - w.shape[-1])) for w in weights]
                           ) if len(weights) > 1 else weights[0].to(compute_dtype)
        # Taps at j >= n only ever meet the zero padding (an input shorter than the kernel).
        kernel = kernel[..., :n]  # (C_out_total, C_in, min(K_max, n))
        y = CircularCorrelation.apply(x_shifted, kernel, n)  # (B, n, C_out_total)
        outputs, start = [], 0
        for w, b in zip(weights, biases):
            offset = half - w.shape[-1] // 2
            out = y[:, offset:offset + length, start:start + w.shape[0]]  # (B, L, C_out_b)
            if b is not None:
                out = out + b.to(compute_dtype)
            outputs.append(out.to(out_dtype))
            start += w.shape[0]
    return outputs
