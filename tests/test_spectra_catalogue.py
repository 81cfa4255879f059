"""Catalogues of labelled spectra: real_spectra/truth.csv is one; bad catalogues are named."""

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ciderlab.data.labels import EXTENDED_CLASSES, class_of_type_string
from ciderlab.data.spectra_catalogue import (label_summary, read_spectra_catalogue,
                                             write_spectra_catalogue)
from ciderlab.errors import InputError

REAL = Path(__file__).resolve().parents[1] / "real_spectra"
FILES = ["ZTF18abokyfk_20180925_P60_v1.ascii", "ZTF18aavskep_20180602_P60_v1.ascii",
         "tns_2016al_2016-01-12.0_P60_SED-Machine_iPTF.ascii"]


@pytest.fixture
def folder(tmp_path):
    """Three real spectrum files copied into a fresh folder."""
    for name in FILES:
        shutil.copy(REAL / name, tmp_path / name)
    return tmp_path


def write(folder: Path, text: str, encoding: str = "utf-8") -> Path:
    path = folder / "catalogue.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_real_spectra_truth_is_a_catalogue_and_every_class_maps():
    table = read_spectra_catalogue(REAL / "truth.csv")
    truth = pd.read_csv(REAL / "truth.csv")
    assert len(table) == len(truth) == 62
    assert list(table["file"]) == list(truth["file"])
    assert table["label"].notna().sum() == 62  # its classes are the paper's own names
    assert list(table["label"]) == list(truth["class"])
    assert table["redshift"].tolist() == pytest.approx(truth["redshift"].tolist())
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in table["path"])
    assert {"subclass", "licence", "instrument"} <= set(table.columns)  # extra columns kept
    # The TNS-style subclass strings: 54 of 62 map, and each mapped one agrees with the class
    # ("QSO broad-line", "classical nova", "IIn (TNS: II)"... are left unmapped, not guessed).
    from_subclass = table["subclass"].map(class_of_type_string)
    assert from_subclass.notna().sum() == 54
    assert (from_subclass.dropna() == table.loc[from_subclass.notna(), "label"]).all()
    assert label_summary(table) == "62 spectra of 61 objects, 62 of them in the trained classes"


def test_types_outside_the_classes_are_kept_unlabelled_and_counted(folder):
    path = write(folder, "file,object,class,redshift,phase,instrument,note\n"
                         f"{FILES[0]},SN2018fif,SN II,0.017189,3.5,SEDM,a\n"
                         f"{FILES[1]},SN2018bwr,SLSN-I,,,SEDM,b\n"
                         f"./{FILES[2]},SN2016al,SN Ib/c,0.093,-2,P60,c\n")
    table = read_spectra_catalogue(path)
    assert list(table["label"].fillna("none")) == ["SN IIP", "none", "none"]
    assert math.isnan(table["redshift"][1]) and math.isnan(table["phase"][1])
    assert table["phase"][2] == -2.0 and list(table["note"]) == ["a", "b", "c"]
    assert list(table["class"]) == ["SN II", "SLSN-I", "SN Ib/c"]  # the source's own string
    assert label_summary(table).endswith("not one of the classes: SLSN-I (1), SN Ib/c (1)")
    assert list(read_spectra_catalogue(path, EXTENDED_CLASSES)["label"].fillna("none")) == \
        ["SN IIP", "SLSN-I", "none"]


def test_a_written_catalogue_reads_back_the_same(folder):
    table = pd.DataFrame({"file": FILES, "object": ["a", "b", "c"],
                          "class": ["SN IIP", "SN IIn", "SN Ia"],
                          "redshift": [0.017189, math.nan, 0.093], "instrument": ["SEDM"] * 3})
    path = write_spectra_catalogue(table, folder / "sub" / ".." / "catalogue.csv")
    back = read_spectra_catalogue(path)
    assert list(back["file"]) == FILES and list(back["label"]) == ["SN IIP", "SN IIn", "SN Ia"]
    assert back["redshift"].tolist()[0] == 0.017189 and math.isnan(back["redshift"][1])
    write_spectra_catalogue(back, path)  # the reader's own columns are not written back
    assert path.read_text().splitlines()[0] == "file,object,class,redshift,instrument"
    assert not list(folder.glob("*.part"))


def test_a_missing_column_is_named_with_the_expected_header(folder):
    path = write(folder, f"file,name,class\n{FILES[0]},SN2018fif,SN IIP\n")
    with pytest.raises(InputError, match=r"no column\(s\) object, redshift; a catalogue's "
                                         r"header is file,object,class,redshift,phase,instrument"):
        read_spectra_catalogue(path)


def test_missing_files_are_listed(folder):
    (folder / FILES[1]).unlink()
    path = write(folder, "file,object,class,redshift\n" + "".join(
        f"{name},x{i},SN Ia,0.1\n" for i, name in enumerate(FILES + ["gone.txt"])))
    with pytest.raises(InputError, match=rf"2 of 4 listed file\(s\) are not there \(line 3: "
                                         rf"{FILES[1]}; line 5: gone.txt\); the file column is "
                                         "relative to"):
        read_spectra_catalogue(path)


@pytest.mark.parametrize("value", ["NaN", "-0.01", "inf", "z=0.1"])
def test_a_redshift_that_is_not_a_finite_number_at_least_zero_is_refused(folder, value):
    path = write(folder, f"file,object,class,redshift\n{FILES[0]},a,SN IIP,0.01\n"
                         f"{FILES[1]},b,SN IIn,{value}\n")
    with pytest.raises(InputError, match=rf"1 redshift value\(s\) are not a finite number >= 0: "
                                         rf"line 3 \({FILES[1]}\): '{value}'.*leave the cell "
                                         "empty"):
        read_spectra_catalogue(path)


@pytest.mark.parametrize("text", ["", "file,object,class,redshift\n"])
def test_an_empty_catalogue_is_refused(folder, text):
    with pytest.raises(InputError, match="the catalogue has no rows; it needs the header line "
                                         "file,object,class,redshift"):
        read_spectra_catalogue(write(folder, text))


def test_a_file_listed_twice_is_refused(folder):
    path = write(folder, f"file,object,class,redshift\n{FILES[0]},a,SN IIP,0.01\n"
                         f"{FILES[1]},b,SN IIn,0.05\n./{FILES[0]},a,SN IIP,0.01\n")
    with pytest.raises(InputError, match=rf"'{FILES[0]}' and 0 other file\(s\) are listed more "
                                         r"than once \(lines 2, 4\)"):
        read_spectra_catalogue(path)


def test_an_empty_object_is_refused(folder):
    path = write(folder, f"file,object,class,redshift\n{FILES[0]}, ,SN IIP,0.01\n")
    with pytest.raises(InputError, match="empty object in line 2"):
        read_spectra_catalogue(path)


def test_latin1_bytes_in_an_object_name_are_read(folder):
    # a spreadsheet saved as Latin-1 (not valid UTF-8): read as Latin-1, like spectrum headers
    path = write(folder, f"file,object,class,redshift\n{FILES[0]},SN2018fif (Gr\xf6\xdfe),SN II,"
                         "0.017\n", "latin-1")
    assert read_spectra_catalogue(path)["object"][0] == "SN2018fif (Gr\xf6\xdfe)"
    utf8_bom = write(folder, f"file,object,class,redshift\n{FILES[0]},Café,CV,0\n", "utf-8-sig")
    table = read_spectra_catalogue(utf8_bom)
    assert table["object"][0] == "Café" and table["label"][0] == "CV"


def test_a_missing_or_binary_catalogue_is_named(folder):
    with pytest.raises(InputError, match="nothere.csv: no such catalogue file"):
        read_spectra_catalogue(folder / "nothere.csv")
    (folder / "b.csv").write_bytes(b"file,object\x00\x01")
    with pytest.raises(InputError, match="b.csv: not a text file; a catalogue is a CSV"):
        read_spectra_catalogue(folder / "b.csv")
