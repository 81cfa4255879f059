"""numpy versions of SNID-SAGE 0.9.0's per-frequency Python loops (``snid_sage.snid.fft_tools``).

A ``sage identify`` call spends most of its time in four helpers that loop over the FFT bins in
Python, once per template (~5,450 of them): ``shiftit``, ``apply_filter``, ``calculate_rms`` and
``aspart`` (profiled: about 80% of a forced-redshift call). Each function here computes the same
expression, term by term in the same order, over whole arrays, and gives the same bits: the
cosine-bell factors come from SNID-SAGE's own ``_calculate_cosine_bell_factor``, the sums are
sequential (``np.add.accumulate``) as the loops add, and complex products are written out as
numpy's scalar product computes them. ``install`` puts them in place in the worker process
(``worker.py``); ``tests/test_baseline.py`` checks each against the original and the answers of
whole ``identify`` calls.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def _sequential_sum(terms: np.ndarray) -> float:
    """The sum a Python ``for`` loop of ``+=`` from 0.0 gives (no pairwise summation)."""
    return float(np.add.accumulate(terms)[-1]) if terms.size else 0.0


@lru_cache(maxsize=64)
def _bell(k1: int, k2: int, k3: int, k4: int, k_max: int) -> np.ndarray:
    """SNID-SAGE's cosine-bell factor of every frequency index 0..k_max (read-only)."""
    from snid_sage.snid.fft_tools import _calculate_cosine_bell_factor as factor

    bell = np.array([factor(k, k1, k2, k3, k4) for k in range(k_max + 1)], dtype=float)
    bell.setflags(write=False)
    return bell


def _complex_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b elementwise, as numpy multiplies two complex scalars (the array loop may fuse the
    multiply-adds and differ in the last bit)."""
    out = np.empty(np.broadcast(a, b).shape, dtype=complex)
    out.real = a.real * b.real - a.imag * b.imag
    out.imag = a.real * b.imag + a.imag * b.real
    return out


def _parseval_weights(ks: np.ndarray, n: int) -> np.ndarray:
    return np.where((ks == 0) | (ks == n // 2), 1.0, 2.0)


def apply_filter(ft: np.ndarray, k1: int, k2: int, k3: int, k4: int) -> np.ndarray:
    n = len(ft)
    index = np.arange(n)
    abs_freq = np.abs(np.where(index < n // 2, index, index - n))
    return ft * _bell(k1, k2, k3, k4, int(abs_freq.max(initial=0)))[abs_freq]


def calculate_rms(ft: np.ndarray, k1: int, k2: int, k3: int, k4: int) -> float:
    n = len(ft)
    ks = np.arange(k1, k4 + 1)
    bins = ft[ks]
    weights = _parseval_weights(ks, n) * _bell(k1, k2, k3, k4, k4)[ks]
    return np.sqrt(_sequential_sum(weights * (bins.real ** 2 + bins.imag ** 2))) / float(n)


def aspart(x: np.ndarray, k1: int, k2: int, k3: int, k4: int, shift: float
           ) -> tuple[float, float]:
    n = len(x)
    ks = np.arange(k1, k4 + 1)
    phase = np.exp(1j * (-2.0 * np.pi * ks * shift / n))
    shifted = _complex_product(phase, x[ks])
    weights = _parseval_weights(ks, n) * _bell(k1, k2, k3, k4, k4)[ks] ** 2
    return (np.sqrt(_sequential_sum(weights * shifted.imag ** 2)) / n,
            np.sqrt(_sequential_sum(weights * shifted.real ** 2)) / n)


def shiftit(x: np.ndarray, shift: float, tol: float = 1e-8) -> np.ndarray:
    n = len(x)
    if n == 0:
        return np.array([])
    nz = np.flatnonzero(np.abs(x) > tol)
    if not nz.size:
        return np.zeros_like(x)
    index = np.arange(n)
    freq_idx = np.where(index <= n // 2, index, index - n)
    ft = _complex_product(np.fft.fft(x), np.exp(1j * (-2.0 * np.pi * freq_idx * shift / n)))
    result = np.real(np.fft.ifft(ft))
    o0, o1 = int(nz[0]), int(nz[-1])
    n0 = int(np.floor(o0 + shift))
    n1 = int(np.ceil(o1 + shift))
    if n0 > 0:
        result[:n0] = 0.0
    if n1 < n - 1:
        result[n1 + 1:] = 0.0
    result[np.abs(result) < tol] = 0.0
    return result


REPLACED = {"shiftit": shiftit, "apply_filter": apply_filter, "calculate_rms": calculate_rms,
            "aspart": aspart}


def install() -> None:
    """Replace the loops in ``fft_tools`` and in ``snid.py``'s own imports of them (it binds
    ``apply_filter`` as ``bandpass``); the other callers import from ``fft_tools`` per call."""
    from snid_sage.snid import fft_tools, snid

    for name, function in REPLACED.items():
        setattr(fft_tools, name, function)
        setattr(snid, "bandpass" if name == "apply_filter" else name, function)
