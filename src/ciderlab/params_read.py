"""Which params.yaml keys a command reads, recorded as it runs, so that each dvc.yaml stage can
list exactly those keys (its ``params:``) and a test can hold the two together.

``load_params`` hands out the resolved parameters as a ``Recorded`` mapping. Reading a key
notes its dotted name (``train_classifier.lr``); anything that reads a whole section (iterating
it, ``**section``, ``items()``, a copy) notes the section. With ``CIDERLAB_PARAMS_READ`` set to a
folder, the CLI writes ``<folder>/<stage>.json`` (the names read, shortest covering ones) when
a command ends; the smoke test runs the pipeline that way and compares with dvc.yaml.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "CIDERLAB_PARAMS_READ"
_READ: set[str] = set()
_SECTIONS: dict[str, set[str]] = {}  # section name -> its keys, to fold a fully read section


class Recorded(dict):
    """A params section that notes every key read from it (see the module docstring)."""

    def __init__(self, values=(), where: str | None = None):
        values = dict(values)
        if where is None:  # made by other code (e.g. dataclasses.asdict): records nothing
            super().__init__(values)
            self._where = None
            return
        super().__init__({k: Recorded(v, f"{where}{k}.") if isinstance(v, dict) else v
                          for k, v in values.items()})
        self._where = where
        if where:
            _SECTIONS[where.rstrip(".")] = set(values)

    def _note(self, key=None) -> None:
        if self._where is None:
            return
        if key is None or (key not in self.keys_unnoted() and self._where):
            # the whole section, or a key it lacks: only the section tells DVC about it
            _READ.add(self._where.rstrip(".") or "")
        else:
            _READ.add(f"{self._where}{key}")

    def keys_unnoted(self):
        return dict.keys(self)

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if not isinstance(value, Recorded):  # a section notes what is read from it
            self._note(key)
        return value

    def get(self, key, default=None):
        value = super().get(key, default)
        if not isinstance(value, Recorded):
            self._note(key)
        return value

    def __contains__(self, key) -> bool:
        self._note(key)
        return super().__contains__(key)

    def __iter__(self):
        self._note()
        return super().__iter__()

    def keys(self):
        self._note()
        return super().keys()

    def items(self):
        self._note()
        return super().items()

    def values(self):
        self._note()
        return super().values()

    def copy(self) -> dict:
        self._note()
        return plain(self)

    def __deepcopy__(self, memo) -> dict:
        self._note()
        return plain(self)

    def __reduce_ex__(self, protocol):  # pickled or copied as a plain dict of what it holds
        self._note()
        return dict, (plain(self),)


def plain(values):
    """A plain dict (nested) of a Recorded mapping's values, without noting anything more."""
    if isinstance(values, dict):
        return {k: plain(v) for k, v in dict.items(values)}
    if isinstance(values, list):
        return [plain(v) for v in values]
    return values


def read_so_far() -> set[str]:
    """Every name noted in this process (a forked worker hands it back to its parent)."""
    return set(_READ)


def note_all(names: set[str]) -> None:
    """Take names another process noted (``read_so_far``) as read here."""
    _READ.update(names)


def names_read() -> list[str]:
    """The dotted names read so far: a section every key of which was read stands for them,
    and a name a shorter one read covers is left out (sorted)."""
    read = {name for name in _READ if name}
    for section in sorted(_SECTIONS, key=lambda name: -name.count(".")):  # deepest first
        keys = _SECTIONS[section]
        if keys and all(f"{section}.{k}" in read for k in keys):
            read.add(section)
    return sorted(name for name in read
                  if not any(name.startswith(f"{other}.") for other in read))


def write_names_read(stage: str) -> None:
    """``<$CIDERLAB_PARAMS_READ>/<stage>.json``: what this process read (nothing if unset)."""
    folder = os.environ.get(ENVIRONMENT_VARIABLE)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{stage}.json").write_text(json.dumps(names_read(), indent=1) + "\n")
