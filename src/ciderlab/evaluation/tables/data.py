"""Tables of the data set: spectra per class and split, folds, merged duplicates, and the classes,
templates and labels dropped or fixed."""

from __future__ import annotations

import pandas as pd

from ciderlab.data.split import SPLITS


def table_dataset(split_table: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Objects, template spectra and realised spectra per class and split."""
    templates = meta.drop_duplicates(["template", "epoch"])
    rows = []
    for label in sorted(split_table["label"].unique()):
        row = {"class": label}
        for split in SPLITS:
            row[f"{split} objects"] = int(((split_table["label"] == label)
                                           & (split_table["split"] == split)).sum())
            row[f"{split} spectra"] = int(((templates["label"] == label)
                                           & (templates["split"] == split)).sum())
        row["realised spectra"] = int((meta["label"] == label).sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    total = table.drop(columns="class").sum().to_dict()
    return pd.concat([table, pd.DataFrame([{"class": "total", **total}])], ignore_index=True)


def table_folds(split_table: pd.DataFrame) -> pd.DataFrame:
    """Objects per class in each cross-validation fold (each object is tested in one fold)."""
    table = split_table.pivot_table(index="label", columns="fold", values="object_id",
                                    aggfunc="count", fill_value=0)
    table.columns = [f"fold {fold}" for fold in table.columns]
    table["objects"] = table.sum(axis=1)
    return table.rename_axis("class")


def table_duplicates(duplicates: pd.DataFrame) -> pd.DataFrame:
    """Objects filed under two names and merged before splitting, with the evidence."""
    columns = {"object_id": "name merged away", "duplicate_of": "kept as", "label": "class",
               "n_matching_spectra": "matching spectra", "max_correlation": "correlation"}
    return duplicates[list(columns)].rename(columns=columns)


def table_dropped_classes(dropped: dict[str, str]) -> pd.DataFrame:
    """The paper's classes that are not trained, each with the reason."""
    return pd.DataFrame([{"class": k, "why it is not trained": v} for k, v in dropped.items()])


def table_dropped_templates(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Template spectra left out, grouped by reason."""
    dropped = catalogue[catalogue["reason"].fillna("") != ""]
    return (dropped.groupby("reason").agg(spectra=("template", "size"),
                                          objects=("object_id", "nunique"))
            .sort_values("spectra", ascending=False).reset_index())


def table_label_fixes(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Templates whose label was corrected: the corrected subtype and why."""
    fixed = catalogue[catalogue["label_fix"].fillna("") != ""]
    return (fixed.drop_duplicates("template")[["template", "subtype", "label_fix"]]
            .rename(columns={"subtype": "corrected subtype", "label_fix": "reason"})
            .reset_index(drop=True))


def source_note(meta: pd.DataFrame) -> str:
    """Markdown naming a catalogue run's spectra (params.yaml spectra.source a folder), which
    the page's text, written for the template bank, does not describe; empty for the bank."""
    if "continuum_sed" not in meta or not (meta["continuum_sed"] == "observed").all():
        return ""
    observed, n_varied = meta[meta["realisation"] == 0], int(meta["realisation"].max())
    return (f"**This run's spectra come from a catalogue** (`spectra.source` in params.yaml): "
            f"{len(observed)} observed spectra of {observed['object_id'].nunique()} objects, "
            f"each trained on as observed and in {n_varied} varied "
            f"{'copy' if n_varied == 1 else 'copies'} (`augment`), scored as observed only. Where the text below speaks of templates "
            "and their realisation, read the catalogue's spectra.")

