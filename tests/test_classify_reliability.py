"""classify with the reliability stage's settings: "none of these", calibrated probabilities,
a redshift interval and the class averaged over it."""

import json

import pytest

from ciderlab.spectranet.classify import classify_spectrum
from ciderlab.spectranet.shipped import SETTINGS_FORMAT, load_models
from ciderlab.cli import main
from ciderlab.spectra.readers.writers import save_sedm_ascii

from test_classify import WAVE, smoke_checkpoints, sn_like

PARAMS = {"realise": {"redshift_min": 0.005, "redshift_max": 0.2, "snr_min": 10}}


def settings(threshold=-1e9, halfwidths=(0.01, 0.005), temperature=1.0, top_label_map=None):
    calibration = {"method": "temperature", "temperature": temperature}
    if top_label_map:
        calibration.update(method="top-label isotonic", top_label_map=top_label_map)
    return {"format": SETTINGS_FORMAT, "calibration": calibration,
            "none_of_these": {"score": "max_softmax", "threshold": threshold, "retain": 0.95},
            "redshift_interval": {"level": 0.68, "snr_inner_edges": [20.0],
                                  "halfwidths": list(halfwidths), "wide": 0.05}}


@pytest.fixture
def models(tmp_path):
    paths = smoke_checkpoints(tmp_path)
    return load_models(paths["classifier"], paths["redshift"], PARAMS)


def answer(models, reliability, redshift=None, snr=50.0):
    flux, err = sn_like(WAVE, snr=snr)
    return classify_spectrum(WAVE, flux, models.classifier, models.redshift_model,
                             redshift=redshift, flux_err=err, domain=models.domain,
                             reliability=reliability)


def test_without_settings_nothing_is_claimed(models):
    result = answer(models, None)
    assert result.none_of_these is None and result.redshift_interval is None


def test_none_of_these_fires_below_the_threshold_and_still_gives_the_top_classes(models):
    result = answer(models, settings(threshold=2.0), redshift=0.05)  # max softmax is <= 1
    assert result.none_of_these is True
    assert result.warnings[0].startswith("none of the trained classes")
    assert len(result.top) == 3
    assert answer(models, settings(threshold=0.0), redshift=0.05).none_of_these is False


def test_temperature_softens_the_probabilities(models):
    sharp = answer(models, settings(temperature=0.2), redshift=0.05)
    soft = answer(models, settings(temperature=5.0), redshift=0.05)
    assert sharp.top[0][0] == soft.top[0][0]
    assert soft.top[0][1] < sharp.top[0][1]
    assert sum(soft.probabilities.values()) == pytest.approx(1.0)


def test_a_top_label_map_sets_the_top_probability_and_keeps_the_answer(models):
    plain = answer(models, settings(), redshift=0.05)
    flat = {"confidence": [0.0, 1.0], "calibrated": [0.6, 0.6]}  # every answer: 60 % right
    mapped = answer(models, settings(top_label_map=flat), redshift=0.05)
    assert mapped.top[0][0] == plain.top[0][0]
    assert mapped.top[0][1] == pytest.approx(max(0.6, mapped.top[1][1]), abs=1e-6)
    assert sum(mapped.probabilities.values()) == pytest.approx(1.0)


def test_the_interval_holds_the_redshift_and_widens_at_low_snr_with_a_warning(models):
    good = answer(models, settings(halfwidths=(0.2, 0.01)), snr=80.0)
    low, high = good.redshift_interval
    assert low < good.redshift < high
    assert not any("interval is wide" in w for w in good.warnings)
    noisy = answer(models, settings(halfwidths=(0.2, 0.01)), snr=3.0)
    assert noisy.redshift_interval[1] - noisy.redshift_interval[0] > high - low
    assert any("interval is wide" in w for w in noisy.warnings)


def test_with_a_predicted_redshift_the_class_is_averaged_over_the_interval(models):
    point = answer(models, settings(halfwidths=(1e-9, 1e-9)))
    spread = answer(models, settings(halfwidths=(0.08, 0.08)))
    assert point.redshift == spread.redshift
    assert point.probabilities != spread.probabilities
    given = answer(models, settings(halfwidths=(0.08, 0.08)), redshift=0.05)
    same = answer(models, settings(halfwidths=(1e-9, 1e-9)), redshift=0.05)
    assert given.probabilities == pytest.approx(same.probabilities)  # a known z is not averaged


def test_cli_prints_none_of_these_and_the_interval(tmp_path, capsys):
    paths = smoke_checkpoints(tmp_path)
    flux, err = sn_like(WAVE)
    save_sedm_ascii(tmp_path / "s.txt", WAVE, flux, err, {"SOURCE": "ZTF21test"})
    reliability = tmp_path / "reliability.json"
    reliability.write_text(json.dumps(settings(threshold=2.0)))
    code = main(["classify", str(tmp_path / "s.txt"), "--classifier", str(paths["classifier"]),
                 "--redshift-model", str(paths["redshift"]), "--reliability", str(reliability)])
    out = capsys.readouterr().out
    assert code == 0
    assert "none of the trained classes; nearest: " in out
    assert "(predicted, 0." in out and "-" in out.split("(predicted, ")[1].split(")")[0]


def test_settings_from_before_the_calibration_map_are_refused_when_loaded(tmp_path):
    from ciderlab.errors import InputError

    paths = smoke_checkpoints(tmp_path)
    old = {key: value for key, value in settings().items() if key not in ("calibration", "format")}
    old["temperature"] = 1.2  # how reliability.json said it before the calibration map
    reliability = tmp_path / "reliability.json"
    reliability.write_text(json.dumps(old))
    with pytest.raises(InputError, match="cannot read the reliability settings.*format 1.*"
                                         "reads format 2.*dvc repro"):
        load_models(paths["classifier"], paths["redshift"], PARAMS, reliability)


def test_settings_of_a_later_format_are_refused_when_loaded(tmp_path):
    from ciderlab.errors import InputError

    paths = smoke_checkpoints(tmp_path)
    reliability = tmp_path / "reliability.json"
    reliability.write_text(json.dumps({**settings(), "format": SETTINGS_FORMAT + 1}))
    with pytest.raises(InputError, match=f"format {SETTINGS_FORMAT + 1}"):
        load_models(paths["classifier"], paths["redshift"], PARAMS, reliability)


def test_interval_redshifts_span_the_interval_with_normal_weights():
    from ciderlab.spectranet.classify import interval_redshifts

    points, weights = interval_redshifts([0.05, 0.1], [0.01, 0.02])
    assert points.shape == (2, len(weights)) and weights.sum() == pytest.approx(1.0)
    assert points[:, len(weights) // 2] == pytest.approx([0.05, 0.1])  # the point estimate
    assert points[:, 0] == pytest.approx([0.05 - 0.01 * 1.05, 0.1 - 0.02 * 1.1])  # -1 half-width
    assert points[:, -1] == pytest.approx([0.05 + 0.01 * 1.05, 0.1 + 0.02 * 1.1])
    assert weights == pytest.approx(weights[::-1]) and weights.argmax() == len(weights) // 2
    single, _ = interval_redshifts(0.05, 0.01)  # classify's one spectrum
    assert single == pytest.approx(points[0])
