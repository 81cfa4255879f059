import numpy as np

from ciderlab.spectranet.catalogue import build_catalogue, coverage_fraction, drop_rare_classes
from ciderlab.data.labels import PAPER_CLASSES
from ciderlab.spectranet.templates import load_template_bank


def test_coverage_fraction_of_a_window():
    wave = np.exp(np.linspace(np.log(2500), np.log(10000), 1000))
    flux = np.where((wave > 4000) & (wave < 8000), 1.0, 0.0)
    frac = coverage_fraction(wave, flux, (4000, 8000))
    assert 0.98 < frac <= 1.0
    assert coverage_fraction(wave, flux, (2000, 3000)) == 0.0
    assert coverage_fraction(wave, np.zeros(1000), (4000, 8000)) == 0.0


def test_catalogue_labels_fixes_and_reasons(tiny_wheel):
    bank = load_template_bank(tiny_wheel)
    catalogue = build_catalogue(bank, PAPER_CLASSES, (3150, 9200), 0.3)
    rows = catalogue.set_index(["template", "epoch"])
    assert rows.loc[("sn2011fe", 0), "label"] == "SN Ia"
    assert rows.loc[("sn2011fe", 0), "object_id"] == "2011fe"
    assert rows.loc[("sn2016ije", 0), "subtype"] == "Ia-02es"  # label fix applied
    assert rows.loc[("sn2016ije", 0), "label_fix"]
    assert "not one of the configured classes" in rows.loc[("kcE", 0), "reason"]
    strict = build_catalogue(bank, PAPER_CLASSES, (3150, 9200), 0.99)
    assert "covers" in strict.set_index("template").loc["sn2016ije", "reason"]


def test_classes_with_too_few_objects_are_dropped_with_a_reason(tiny_wheel):
    catalogue = build_catalogue(load_template_bank(tiny_wheel), PAPER_CLASSES, (3150, 9200), 0.3)
    kept, dropped = drop_rare_classes(catalogue, PAPER_CLASSES, min_objects=2)
    assert "SN Ia" not in dropped  # two objects
    assert "CV" in dropped and "0 usable real object" in dropped["CV"]
    kept3, dropped3 = drop_rare_classes(catalogue, PAPER_CLASSES, min_objects=3)
    assert "SN Ia" in dropped3
    assert (kept3[kept3["label"] == "SN Ia"]["reason"] != "").all()
