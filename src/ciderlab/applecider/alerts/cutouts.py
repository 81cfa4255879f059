"""Alert cutouts: gzip-compressed FITS stamps decoded, normalised, fitted to a fixed size."""

from __future__ import annotations

import gzip
import io
import warnings

import numpy as np

from ciderlab.errors import InputError

CUTOUT_KINDS = ("Science", "Template", "Difference")  # channel order of the stacked cutouts
STAMP_SIZE = 63  # ZTF cutouts are 63 x 63 pixels away from chip edges (SPEC §3.2)
# A ZTF readout quadrant is 3072 x 3080 pixels: a stamp cut at an edge lies in the half of the
# quadrant next to that edge, which says on which side the missing pixels are.
QUADRANT_SHAPE_PIXELS = (3080, 3072)  # (y, x)
NORMALISATIONS = ("l2", "none")


def decode_stamp(stamp_data: bytes, name: str = "cutout") -> np.ndarray:
    """A 2-D float32 image from a cutout's ``stampData`` (gzip-compressed FITS, or plain FITS).

    Parameters
    ----------
    stamp_data : bytes
        The packet's ``cutout*.stampData``.
    name : str
        What to call the stamp in an error (e.g. its ``fileName``).

    Returns
    -------
    ndarray, shape (H, W), float32, native byte order
        Pixel values [DN]; NaN where the survey masked a pixel.
    """
    from astropy.io import fits

    try:
        raw = gzip.decompress(stamp_data) if stamp_data[:2] == b"\x1f\x8b" else stamp_data
        with warnings.catch_warnings():
            # ZTF stamps' SIMPLE card is not quite standard; astropy reads them fine.
            warnings.simplefilter("ignore", fits.verify.VerifyWarning)
            with fits.open(io.BytesIO(raw), memmap=False) as hdus:
                data = hdus[0].data
    except (OSError, ValueError, TypeError, EOFError) as error:
        raise InputError(f"{name}: stampData is not a (gzip-compressed) FITS image ({error}); "
                         f"check the packet was read without alteration") from error
    if data is None or data.ndim != 2:
        raise InputError(f"{name}: expected a 2-D image in the primary HDU, got "
                         f"{None if data is None else data.shape}")
    return np.asarray(data, dtype=np.float32)


def normalise_stamp(stamp: np.ndarray, method: str = "l2") -> tuple[np.ndarray, int]:
    """Normalise one stamp, then set its NaN pixels to 0.

    Parameters
    ----------
    stamp : ndarray, shape (H, W)
        Pixel values [DN], NaN where masked.
    method : {"l2", "none"}
        ``l2`` divides by the L2 norm of the finite pixels (the authors' code, SPEC §7c);
        ``none`` leaves values unscaled.

    Returns
    -------
    normalised : ndarray, shape (H, W), float32
        Unitless; 0 where the input was NaN (or everywhere, for a stamp with no signal).
    n_nan : int
        How many pixels were NaN.
    """
    if method not in NORMALISATIONS:
        raise InputError(f"alerts.stamp_normalisation: {method!r} is not one of {NORMALISATIONS}")
    stamp = np.asarray(stamp, dtype=np.float64)
    finite = np.isfinite(stamp)
    out = np.where(finite, stamp, 0.0)
    if method == "l2":
        norm = np.sqrt(np.sum(out ** 2))
        out = out / norm if norm > 0 else out
    return out.astype(np.float32), int(np.count_nonzero(~finite))


def _pad_widths(length: int, size: int, position: float | None, quadrant_length: int):
    """(before, after) zero padding that keeps the source where a full stamp would have it."""
    missing = size - length
    if position is None or not np.isfinite(position):
        return missing // 2, missing - missing // 2
    near_low_edge = position < quadrant_length / 2
    return (missing, 0) if near_low_edge else (0, missing)


def fit_stamp(stamp: np.ndarray, size: int = STAMP_SIZE, xpos: float | None = None,
              ypos: float | None = None) -> np.ndarray:
    """Zero-pad a stamp cut at a chip edge (or centre-crop a larger one) to ``size x size``.

    Parameters
    ----------
    stamp : ndarray, shape (H, W)
    size : int
        Output side [pixels].
    xpos, ypos : float, optional
        The candidate's position on its quadrant [pixels] (``candidate.xpos/ypos``): padding goes
        on the side of the nearer chip edge, so the source stays at the stamp's centre. Without
        them the padding is split evenly.

    Returns
    -------
    ndarray, shape (size, size), same dtype
    """
    out = np.asarray(stamp)
    for axis, position, quadrant in ((0, ypos, QUADRANT_SHAPE_PIXELS[0]),
                                     (1, xpos, QUADRANT_SHAPE_PIXELS[1])):
        length = out.shape[axis]
        if length > size:
            start = (length - size) // 2
            out = np.take(out, np.arange(start, start + size), axis=axis)
        elif length < size:
            widths = [(0, 0), (0, 0)]
            widths[axis] = _pad_widths(length, size, position, quadrant)
            out = np.pad(out, widths)
    return out


def packet_cutouts(packet: dict, size: int = STAMP_SIZE, method: str = "l2"):
    """The science, template and difference stamps of one alert, stacked as channels.

    Parameters
    ----------
    packet : dict
        One alert in the ZTF Avro layout.
    size : int
        Output side [pixels].
    method : str
        See :func:`normalise_stamp`.

    Returns
    -------
    cutout : ndarray, shape (size, size, 3), float32, or None
        Channels in CUTOUT_KINDS order; None when the packet lacks any of the three stamps.
    info : dict
        ``nan_<kind>`` (NaN pixels per stamp), ``height``/``width`` (the science stamp's shape
        before fitting) and ``is_edge`` (any stamp smaller than ``size``).
    """
    candidate = packet.get("candidate") or {}
    channels, info, is_edge = [], {}, False
    for kind in CUTOUT_KINDS:
        cutout = packet.get(f"cutout{kind}")
        if not cutout or cutout.get("stampData") is None:
            return None, {}
        name = f"alert {packet.get('objectId')} cutout{kind} ({cutout.get('fileName')})"
        stamp = decode_stamp(cutout["stampData"], name)
        if kind == "Science":
            info["height"], info["width"] = stamp.shape
        is_edge |= min(stamp.shape) < size
        normalised, info[f"nan_{kind.lower()}"] = normalise_stamp(stamp, method)
        channels.append(fit_stamp(normalised, size, candidate.get("xpos"), candidate.get("ypos")))
    info["is_edge"] = is_edge
    return np.stack(channels, axis=-1), info  # (size, size, 3)
