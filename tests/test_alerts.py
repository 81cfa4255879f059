import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from ciderlab.applecider.alerts.archive import iter_packets, read_archive_alerts
from ciderlab.applecider.alerts.cutouts import decode_stamp, fit_stamp, normalise_stamp, packet_cutouts
from ciderlab.applecider.alerts.lightcurve import build_lightcurve, history_records, mag_to_flux_ujy
from ciderlab.applecider.alerts.metadata import (METADATA_FIELDS, TOWERS, apply_metadata_scaler,
                                      clean_sentinels, fit_metadata_scaler, tower_columns)
from ciderlab.applecider.alerts.tables import load_alert_tables, packets_to_tables, save_alert_tables
from ciderlab.data.labels import (UNLABELLED, alert_class_of_simbad,
                                  paper_group_of_alert_class)
from ciderlab.errors import InputError

ARCHIVE = Path(__file__).resolve().parents[1] / "data/raw/fink-science-7.4.0.tar.gz"


def stamp_bytes(image: np.ndarray) -> bytes:
    """A cutout's stampData as ZTF ships it: a gzip-compressed big-endian float32 FITS image."""
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.asarray(image, dtype=">f4")).writeto(buffer)
    return gzip.compress(buffer.getvalue())


def packet(object_id="ZTF24aaaaaaa", candid=1, jd=2460000.5, magpsf=18.0, prv=(), shape=(63, 63),
           xpos=1500.0, cdsxmatch=None, **candidate_fields):
    rng = np.random.default_rng(candid)
    candidate = {"jd": jd, "fid": 2, "magpsf": magpsf, "sigmapsf": 0.1, "diffmaglim": 20.5,
                 "isdiffpos": "t", "xpos": xpos, "ypos": 1500.0, **candidate_fields}
    alert = {"objectId": object_id, "candid": candid, "candidate": candidate,
             "prv_candidates": list(prv), "cdsxmatch": cdsxmatch}
    for kind in ("Science", "Template", "Difference"):
        alert[f"cutout{kind}"] = {"fileName": f"{kind}.fits.gz",
                                  "stampData": stamp_bytes(rng.normal(100, 5, shape))}
    return alert


def limit(jd, fid=2, diffmaglim=20.0):
    return {"jd": jd, "fid": fid, "magpsf": None, "sigmapsf": None, "diffmaglim": diffmaglim,
            "isdiffpos": None}


def detection(jd, magpsf, fid=1):
    return {"jd": jd, "fid": fid, "magpsf": magpsf, "sigmapsf": 0.05, "diffmaglim": 20.0,
            "isdiffpos": "f"}


# --- cutouts ---------------------------------------------------------------------------------------

def test_a_full_stamp_decodes_and_is_l2_normalised():
    image = np.arange(63 * 63, dtype=np.float32).reshape(63, 63)
    decoded = decode_stamp(stamp_bytes(image))
    assert decoded.shape == (63, 63) and decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, image)
    normalised, n_nan = normalise_stamp(decoded)
    assert n_nan == 0
    assert np.sqrt(np.sum(normalised.astype(float) ** 2)) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(normalised * np.linalg.norm(image), image, rtol=1e-4)


def test_an_edge_of_chip_stamp_is_padded_on_the_chip_edge_side():
    # ZTF stamps cut at a quadrant's right edge keep their left columns (the source at col 31).
    image = np.ones((63, 45), dtype=np.float32)
    right = fit_stamp(decode_stamp(stamp_bytes(image)), 63, xpos=3058.6, ypos=1500.0)
    assert right.shape == (63, 63)
    assert np.all(right[:, :45] == 1) and np.all(right[:, 45:] == 0)
    left = fit_stamp(image, 63, xpos=10.0, ypos=1500.0)
    assert np.all(left[:, :18] == 0) and np.all(left[:, 18:] == 1)
    assert fit_stamp(np.ones((70, 63)), 63).shape == (63, 63)  # larger: centre-cropped


def test_nan_pixels_become_zero_after_normalisation_and_are_counted():
    image = np.full((63, 63), 3.0, dtype=np.float32)
    image[:10] = np.nan
    normalised, n_nan = normalise_stamp(decode_stamp(stamp_bytes(image)))
    assert n_nan == 10 * 63
    assert np.all(normalised[:10] == 0) and np.all(np.isfinite(normalised))
    assert np.sum(normalised.astype(float) ** 2) == pytest.approx(1.0, rel=1e-5)
    all_nan, n_all = normalise_stamp(np.full((63, 63), np.nan))
    assert n_all == 63 * 63 and np.all(all_nan == 0)


def test_packet_cutouts_stack_three_channels_and_flag_edge_stamps():
    cutout, info = packet_cutouts(packet(shape=(63, 62), xpos=3042.0))
    assert cutout.shape == (63, 63, 3) and cutout.dtype == np.float32
    assert info["is_edge"] and (info["height"], info["width"]) == (63, 62)
    assert np.all(cutout[:, 62, :] == 0)


def test_a_corrupt_stamp_names_the_cutout():
    alert = packet()
    alert["cutoutTemplate"]["stampData"] = b"not a fits file"
    with pytest.raises(InputError, match="cutoutTemplate"):
        packet_cutouts(alert)


# --- light curves ----------------------------------------------------------------------------------

def test_magnitudes_become_microjansky_with_propagated_errors():
    flux, error = mag_to_flux_ujy([23.9, 16.4], [0.1, 0.1])
    np.testing.assert_allclose(flux, [1.0, 1000.0])
    np.testing.assert_allclose(error, [0.1 * np.log(10) / 2.5, 100 * np.log(10) / 2.5])


def test_upper_limits_are_kept_apart_from_detections_and_histories_deduplicated():
    first = packet(candid=1, jd=10.0, prv=[limit(8.0), detection(9.0, 19.0)])
    # The next alert repeats the same history (overlapping 30-day windows).
    second = packet(candid=2, jd=12.0, prv=[limit(8.0), detection(9.0, 19.0), first["candidate"]])
    records = history_records(first) + history_records(second)
    lc = build_lightcurve(records)
    assert len(lc) == 4  # epochs 8 (limit), 9, 10, 12
    limits = lc[lc["is_limit"]]
    assert list(limits["jd"]) == [8.0] and limits["flux_ujy"].isna().all()
    assert limits["limit_flux_ujy"].iloc[0] == pytest.approx(10 ** (-0.4 * (20.0 - 23.9)))
    detections = lc[~lc["is_limit"]]
    assert list(detections["band"]) == ["g", "r", "r"]
    assert detections["flux_ujy"].iloc[0] == pytest.approx(10 ** (-0.4 * (19.0 - 23.9)))
    # Time is counted from the first detection (jd 9), limits before it are negative.
    assert list(lc["dt_days"]) == [-1.0, 0.0, 1.0, 3.0]
    assert not detections["isdiffpos"].iloc[0] and detections["isdiffpos"].iloc[1]


@pytest.mark.parametrize("flag, positive", [("t", True), ("1", True), ("f", False), ("0", False)])
def test_both_spellings_of_isdiffpos_are_read(flag, positive):
    # The real archive has both: t/f in recent packets, 1/0 in older histories.
    lc = build_lightcurve(history_records(packet(isdiffpos=flag)))
    assert bool(lc["isdiffpos"].iloc[0]) is positive


def test_an_unknown_filter_id_is_an_error_naming_the_alert():
    with pytest.raises(InputError, match="ZTF24aaaaaaa"):
        history_records(packet(prv=[{**limit(1.0), "fid": 7}]))


# --- metadata --------------------------------------------------------------------------------------

def metadata_rows(sgscore1):
    rows = pd.DataFrame({name: np.linspace(1, 2, len(sgscore1)) for name in METADATA_FIELDS})
    rows["sgscore1"] = sgscore1
    return clean_sentinels(rows)


def test_sentinels_become_nan_with_a_mask_and_never_enter_the_scaler():
    rows = metadata_rows([0.2, 0.4, -999.0])
    assert rows["sgscore1"].isna().tolist() == [False, False, True]
    assert rows["sgscore1_missing"].tolist() == [False, False, True]
    scaler = fit_metadata_scaler(rows)
    assert scaler.center["sgscore1"] == pytest.approx(0.3)  # median of the real values only
    scaled = apply_metadata_scaler(scaler, rows)
    assert scaled["sgscore1"].iloc[2] == 0 and scaled["sgscore1_missing"].iloc[2] == 1
    assert scaled["sgscore1_missing"].iloc[0] == 0


def test_a_masked_value_stays_out_of_the_statistics_even_if_filled_in_later():
    rows = metadata_rows([0.2, 0.4, -999.0])
    rows["sgscore1"] = rows["sgscore1"].fillna(0.0)  # e.g. filled for a model that needs numbers
    assert fit_metadata_scaler(rows).center["sgscore1"] == pytest.approx(0.3)


def test_sky_may_be_negative_and_is_not_a_sentinel():
    rows = pd.DataFrame({name: [1.0] for name in METADATA_FIELDS})
    rows["sky"] = -12.5
    assert not clean_sentinels(rows)["sky_missing"].iloc[0]


def test_scaler_statistics_come_from_the_training_fold_only():
    train = metadata_rows([0.1, 0.2, 0.3, 0.4, 0.5])
    test = metadata_rows([0.9, 0.95, 1.0])
    scaler = fit_metadata_scaler(train)
    assert scaler.center["sgscore1"] == pytest.approx(0.3)
    scaled = apply_metadata_scaler(scaler, test)
    expected = (test["sgscore1"] - 0.3) / scaler.scale["sgscore1"]
    np.testing.assert_allclose(scaled["sgscore1"], expected, rtol=1e-6)
    assert fit_metadata_scaler(pd.concat([train, test])).center["sgscore1"] != pytest.approx(0.3)


def test_towers_are_addressed_by_field_name():
    assert {"sgscore1", "distpsnr1"} <= set(TOWERS["ps1_neighbour_1"])
    assert {"sgscore2", "distpsnr2"} <= set(TOWERS["ps1_neighbour_2"])
    assert set(TOWERS["all"]) == {f for name, fs in TOWERS.items() if name != "all" for f in fs}
    scaled = apply_metadata_scaler(fit_metadata_scaler(metadata_rows([0.1, 0.2])),
                                   metadata_rows([0.1, 0.2]))
    psf = scaled[tower_columns("psf_quality")]
    assert list(psf.columns[:3]) == ["fwhm", "elong", "classtar"]
    assert "fwhm_missing" in psf.columns
    with pytest.raises(InputError, match="psf"):
        tower_columns("psf")


# --- labels ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("otype, group", [
    ("BLLac", "AGN-like"), ("Seyfert_1", "AGN-like"), ("QSO_Candidate", "AGN-like"),
    ("RRLyr", "variable star"), ("Candidate_EB*", "variable star"), ("Candidate_YSO", "YSO"),
    ("TTau*", "YSO"), ("WD*", "star"), ("CataclyV*", "CV/nova"), ("SN", "SN"),
    ("Unknown", UNLABELLED), ("Radio", UNLABELLED), ("Fail", UNLABELLED), (None, UNLABELLED),
])
def test_simbad_types_are_grouped_into_alert_classes(otype, group):
    assert alert_class_of_simbad(otype) == group


def test_paper_groups_only_where_the_simbad_type_implies_one():
    assert paper_group_of_alert_class("AGN-like") == "AGN"
    assert paper_group_of_alert_class("CV/nova") == "CV"
    assert paper_group_of_alert_class("SN") is None  # SIMBAD does not say SN I or SN II


# --- tables ----------------------------------------------------------------------------------------

def test_packets_to_tables_round_trips_through_files(tmp_path):
    alerts = [packet("ZTF1", 1, jd=10.0, prv=[limit(8.0)], cdsxmatch="BLLac", sgscore1=-999.0),
              packet("ZTF1", 2, jd=12.0, prv=[limit(8.0)], cdsxmatch="BLLac", sgscore1=-999.0),
              packet("ZTF2", 3, jd=11.0, shape=(63, 45), xpos=3058.0, sgscore1=0.7)]
    tables = packets_to_tables(alerts + alerts[:1])  # an alert seen twice is used once
    assert list(tables.metadata["label"]) == ["AGN-like", "AGN-like", UNLABELLED]
    assert tables.metadata["paper_group"].fillna("none").tolist() == ["AGN", "AGN", "none"]
    assert tables.metadata["sgscore1_missing"].tolist() == [True, True, False]
    assert tables.cutouts.shape == (3, 63, 63, 3)
    assert tables.cutout_index["is_edge"].tolist() == [False, False, True]
    assert int(tables.lightcurve["is_limit"].sum()) == 1  # the shared limit once
    save_alert_tables(tables, tmp_path)
    loaded = load_alert_tables(tmp_path)
    np.testing.assert_array_equal(loaded.cutouts, tables.cutouts)
    pd.testing.assert_frame_equal(loaded.lightcurve, tables.lightcurve)
    pd.testing.assert_frame_equal(loaded.metadata, tables.metadata)


def test_missing_tables_say_which_command_writes_them(tmp_path):
    with pytest.raises(InputError, match="ciderlab alerts"):
        load_alert_tables(tmp_path)


def test_simulated_elasticc_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="simulated"):
        read_archive_alerts(tmp_path / "any.tar.gz", ["elasticc_sample_seed0.parquet"])


@pytest.mark.skipif(not ARCHIVE.exists(), reason="data/raw not pulled (run `ciderlab pull`)")
def test_real_alerts_from_the_archive():
    # alerts.parquet: 51 alerts of 51 objects; the i-band file: 121 alerts of 10 objects whose
    # 30-day histories overlap, so its light curves must be de-duplicated.
    files = ["alerts.parquet", "20240606_iband_history.parquet"]
    tables = packets_to_tables(iter_packets(read_archive_alerts(ARCHIVE, files)))
    assert len(tables.metadata) == 172 and tables.metadata["objectId"].nunique() == 61
    assert tables.cutouts.shape == (172, 63, 63, 3) and np.isfinite(tables.cutouts).all()
    norms = np.sqrt((tables.cutouts.astype(float) ** 2).sum(axis=(1, 2)))
    assert np.allclose(norms[norms > 0], 1.0, rtol=1e-4)
    lc = tables.lightcurve
    assert lc["is_limit"].any() and (~lc["is_limit"]).any()
    assert set(lc["band"]) <= {"g", "r", "i"}
    assert not lc.duplicated(["objectId", "jd", "band"]).any()
    assert (lc.groupby("objectId")["dt_days"].min() <= 0).all()
    assert lc.loc[~lc["is_limit"], "flux_ujy"].between(1, 1e6).all()  # 9 < m < 24 mag
