"""Shared test helpers: a tiny wheel in the SNID-SAGE 0.9.0 bank format."""

import io
import zipfile

import h5py
import numpy as np
import pytest
import torch

# Tiny models gain nothing from threads, and with another process busy on the other core
# two spinning intra-op threads make them many times slower.
torch.set_num_threads(1)

from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.spectranet.realise import RealiseConfig

# A small realisation set-up shared by the realise and baseline tests (256-bin grids).
SMALL_REALISE_CONFIG = RealiseConfig(
    seed=1, n_realisations=2, min_realisations_per_class=0, max_realisations_per_spectrum=2,
    redshift_min=0.01, redshift_max=0.2, host_fraction_max=0.5, snr_min=10, snr_max=50,
    template_fwhm_lnwave=0.00135,
    preprocess=PreprocessConfig(obs_wave_min_aa=3800, obs_wave_max_aa=9200, rest_wave_min_aa=3150,
                                rest_wave_max_aa=9200, n_bins=256, fwhm_lnwave=0.01,
                                continuum="spline", knot_spacing_lnwave=0.22,
                                median_window_lnwave=0.2))

WAVE = np.exp(np.linspace(np.log(2501.69), np.log(9993.23), 1024))


def bank_file(templates: dict) -> bytes:
    """HDF5 bytes laid out like snid_sage/templates/templates_<type>.hdf5."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle["metadata/standard_wavelength"] = WAVE
        for name, spec in templates.items():
            group = handle.create_group(f"templates/{name}")
            group.attrs.update(type=spec["type"], subtype=spec["subtype"], age=spec["ages"][0],
                               redshift=0.0, phase="Unknown", epochs=len(spec["ages"]),
                               file_path=f"{name}.lnw")
            group["flux"] = spec["fluxes"][0]
            group["fft_real"] = np.zeros(4)  # present in the real bank, ignored by us
            if len(spec["ages"]) > 1:
                for i, (age, flux) in enumerate(zip(spec["ages"], spec["fluxes"])):
                    epoch = group.create_group(f"epochs/epoch_{i}")
                    epoch.attrs["age"] = age
                    epoch["flux"] = flux
    return buffer.getvalue()


@pytest.fixture
def tiny_wheel(tmp_path):
    """A wheel holding a two-type bank: one multi-epoch SN Ia and one galaxy."""
    line = -0.3 * np.exp(-0.5 * ((WAVE - 6150) / 60) ** 2)
    line[(WAVE < 3300) | (WAVE > 9000)] = 0
    path = tmp_path / "snid_sage-0.9.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("snid_sage/templates/templates_Ia.hdf5", bank_file({
            "sn2011fe": {"type": "Ia", "subtype": "Ia-norm", "ages": [-5.0, 10.0],
                         "fluxes": [line, 0.5 * line]},
            "sn2016ije": {"type": "Ia", "subtype": "Ia-91bg", "ages": [-99.9], "fluxes": [line]},
        }))
        wheel.writestr("snid_sage/templates/templates_Galaxy.hdf5", bank_file({
            "kcE": {"type": "Galaxy", "subtype": "Gal-E", "ages": [-99.9],
                    "fluxes": [0.05 * np.sin(WAVE / 40)]},
        }))
        wheel.writestr("snid_sage/__init__.py", "")
    return path
