"""SNID-SAGE's answers: its ``.output`` text parsed, its (type, subtype) mapped to our classes."""

from __future__ import annotations

import re

from ciderlab.data.labels import PAPER_CLASSES, SUBTYPE_TO_CLASS, class_of_subtype

OTHER = "other"  # the class of any SNID-SAGE answer outside our classes

_FIELDS = {
    "best_template": re.compile(r"^Best Template:\s*(\S+)", re.M),
    "best_match": re.compile(r"^\W*(RLAP(?:-CCC)?):\s*(\S+)\s*\|\s*z=(\S+)", re.M),
    "type": re.compile(r"^Best Type:\s*(\S+)", re.M),
    "subtype": re.compile(r"^Best Subtype:\s*(\S+)", re.M),
    "redshift": re.compile(r"^Redshift:\s*(\S+)", re.M),
}


def parse_snid_output(text: str) -> dict:
    """The answer in a SNID-SAGE 0.9.0 ``.output`` file (``identify --minimal``).

    SNID-SAGE has no machine-readable output from its CLI; this text format is fixed by the
    pinned version. "Best Subtype" is absent when SNID-SAGE has none, and "Redshift" when too
    few templates match; the best template's redshift stands in for it then.

    Returns
    -------
    dict
        type, subtype ("" if none), redshift, redshift_best, rlap (the best template's RLAP or
        RLAP-CCC, whichever SNID-SAGE ranked by), rlap_metric, best_template.
    """
    found = {key: pattern.search(text) for key, pattern in _FIELDS.items()}
    for key in ("best_template", "best_match", "type"):
        if found[key] is None:
            raise ValueError(f"no '{_FIELDS[key].pattern}' line: not a SNID-SAGE 0.9.0 result")
    metric, rlap, z_best = found["best_match"].groups()
    redshift = found["redshift"].group(1) if found["redshift"] else z_best
    return {"type": found["type"].group(1),
            "subtype": found["subtype"].group(1) if found["subtype"] else "",
            "redshift": float(redshift), "redshift_best": float(z_best), "rlap": float(rlap),
            "rlap_metric": metric, "best_template": found["best_template"].group(1)}


def snid_type_to_class(sn_type: str, subtype: str,
                       classes: tuple[str, ...] = PAPER_CLASSES) -> str:
    """Our class for SNID-SAGE's (type, subtype) answer, or ``OTHER``.

    The subtype decides (``labels.class_of_subtype``). Without a known subtype, a type decides
    only if all its subtypes share one class (``Ia`` -> SN Ia, but ``II`` could be IIP/IIb/IIn).
    """
    if subtype in SUBTYPE_TO_CLASS:
        return class_of_subtype(subtype, classes) or OTHER
    candidates = {label for name, label in SUBTYPE_TO_CLASS.items()
                  if name == sn_type or name.startswith(f"{sn_type}-")}
    if len(candidates) == 1 and candidates <= set(classes):
        return candidates.pop()
    return OTHER
