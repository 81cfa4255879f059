import math
import zipfile

import numpy as np
import pytest

from ciderlab.spectranet.templates import load_template_bank


def test_every_epoch_is_one_spectrum_with_its_own_age(tiny_wheel):
    bank = load_template_bank(tiny_wheel)
    assert bank.wave_rest_aa.shape == (1024,)
    by_key = {(s.name, s.epoch): s for s in bank.spectra}
    assert set(by_key) == {("sn2011fe", 0), ("sn2011fe", 1), ("sn2016ije", 0), ("kcE", 0)}
    assert by_key[("sn2011fe", 1)].age_days == 10.0
    assert np.allclose(by_key[("sn2011fe", 1)].flux, 0.5 * by_key[("sn2011fe", 0)].flux)
    assert math.isnan(by_key[("sn2016ije", 0)].age_days)  # -99.9 means undefined
    assert by_key[("kcE", 0)].sn_type == "Galaxy"


def test_types_filter(tiny_wheel):
    bank = load_template_bank(tiny_wheel, types={"Galaxy"})
    assert [s.name for s in bank.spectra] == ["kcE"]


def test_missing_or_wrong_archives_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="ciderlab pull"):
        load_template_bank(tmp_path / "absent.whl")
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as wheel:
        wheel.writestr("other/file.txt", "x")
    with pytest.raises(ValueError, match="no SNID-SAGE template bank"):
        load_template_bank(empty)
