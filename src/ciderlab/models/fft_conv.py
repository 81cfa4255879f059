"""Exact 'same' 1-D cross-correlation (what nn.Conv1d computes) through the FFT, for long kernels.

Imports only torch. A direct convolution costs ``C_in * C_out * K * L`` multiply-accumulates;
through the FFT it costs two transforms and ``C_in * C_out`` complex products per frequency,
whatever the kernel length ``K``. Several kernels applied to the same input (the branches of a
SpectraNet stage) share one forward transform, one batched product and one inverse transform.

The result equals ``nn.Conv1d(C_in, C_out, K, padding=K // 2)`` up to float32 rounding, for odd
``K``, any input length, and in both directions (autograd differentiates the transforms).
"""

from __future__ import annotations

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


class CircularCorrelation(torch.autograd.Function):
    """``z[b, o, s] = sum_c sum_j w[o, c, j] x[b, c, (s + j) mod n]`` through length-``n`` FFTs.

    Written out (rather than left to autograd) so that every per-frequency product is a batched
    matmul on contiguous operands, with the large operand, the kernels' spectrum (n//2+1, C_out,
    C_in), never transposed or conjugated: autograd's own backward of a complex bmm and of a
    zero-padded rfft was several times slower on CPU. The gradients are the adjoint
    circular operations: ``dx`` a circular convolution of ``dz`` with ``w``, ``dw`` the circular
    correlation of ``x`` with ``dz`` at lags 0..K-1.
    """

    @staticmethod
    def forward(ctx, x, kernel, n):  # x: (B, C_in, L <= n), kernel: (C_out, C_in, K <= n)
        ctx.length, ctx.kernel_size, ctx.n = x.shape[-1], kernel.shape[-1], n
        # Every operand of a bmm below is made contiguous: a strided one sends CPU bmm down a
        # per-matrix path that was 50x slower.
        x_freq = torch.fft.rfft(x, n=n).permute(2, 0, 1).contiguous()  # (F, B, C_in)
        x_freq_conj = torch.conj_physical(x_freq)  # (F, B, C_in)
        kernel_freq = torch.fft.rfft(kernel.permute(2, 0, 1), n=n, dim=0).contiguous()  # (F, C_out, C_in)
        # conj(z_f) = conj(x_f) @ w_f^T: correlation multiplies by the kernel's conjugate spectrum.
        z_freq_conj = torch.bmm(x_freq_conj, kernel_freq.transpose(1, 2))  # (F, B, C_out)
        ctx.save_for_backward(x_freq, kernel_freq)
        return torch.fft.irfft(z_freq_conj.permute(1, 2, 0).conj(), n=n)  # (B, C_out, n)

    @staticmethod
    def backward(ctx, grad_z):  # grad_z: (B, C_out, n)
        x_freq, kernel_freq = ctx.saved_tensors  # (F, B, C_in), (F, C_out, C_in)
        n = ctx.n
        with torch.autocast(grad_z.device.type, enabled=False):
            grad_freq = torch.fft.rfft(grad_z.to(kernel_freq.real.dtype))  # (B, C_out, F)
            grad_freq = grad_freq.permute(2, 0, 1).contiguous()  # (F, B, C_out)
            grad_x = grad_kernel = None
            if ctx.needs_input_grad[0]:
                grad_x_freq = torch.bmm(grad_freq, kernel_freq)  # (F, B, C_in)
                grad_x = torch.fft.irfft(grad_x_freq.permute(1, 2, 0), n=n)  # (B, C_in, n)
                grad_x = grad_x[..., :ctx.length]  # (B, C_in, L)
            if ctx.needs_input_grad[1]:
                # dw_f = conj(dz_f)^T @ x_f, summed over the batch; the conjugates are taken of
                # the small operands so the large product needs no conjugated copy.
                grad_kernel_freq = torch.bmm(torch.conj_physical(grad_freq).transpose(1, 2),
                                             x_freq)  # (F, C_out, C_in)
                grad_kernel = torch.fft.irfft(grad_kernel_freq, n=n, dim=0)  # (n, C_out, C_in)
                grad_kernel = grad_kernel[:ctx.kernel_size].permute(1, 2, 0)  # (C_out, C_in, K)
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
        One output per branch, shape (B, C_out_b, L), in the order of ``weights``.
    """
    if not weights:
        return []
    batch, in_channels, length = x.shape
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
        x_shifted = F.pad(x.to(compute_dtype), (half, 0))  # (B, C_in, half + L)
        # All branches' kernels as one (C_out_total, C_in, K_max), zero-padded on the right.
        kernel = torch.cat([F.pad(w.to(compute_dtype), (0, k_max - w.shape[-1])) for w in weights])
        # Taps at j >= n only ever meet the zero padding (an input shorter than the kernel).
        kernel = kernel[..., :n]  # (C_out_total, C_in, min(K_max, n))
        y = CircularCorrelation.apply(x_shifted, kernel, n)  # (B, C_out_total, n)
        outputs, start = [], 0
        for w, b in zip(weights, biases):
            offset = half - w.shape[-1] // 2
            out = y[:, start:start + w.shape[0], offset:offset + length]  # (B, C_out_b, L)
            if b is not None:
                out = out + b.to(compute_dtype)[:, None]
            outputs.append(out.to(out_dtype))
            start += w.shape[0]
    return outputs
