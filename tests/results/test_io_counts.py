"""Saving and loading touch each file once: ``result.json`` parsed once, each file written once."""

from __future__ import annotations

import collections
import json
import os

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.results import _atomic, _store
from xattr_lab.results._store import POINTER, ResultFileError, save_result
from xattr_lab.results.explanation import Explanation
from xattr_lab.results.training import TrainingRun


@pytest.fixture(scope="module")
def expl():
    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    return xattr_lab.explain(model, model.image, "describe it", regions="grid:3", search="efficient", progress=False)


@pytest.fixture()
def training():
    return TrainingRun(
        steps=np.arange(6),
        series={"loss": np.linspace(1.0, 0.1, 6), "test_acc": np.linspace(0.2, 0.9, 6)},
        extras={"seen": np.arange(6) * 3},
        labels={"loss": "loss"},
        events={"grokked": 4},
        config={"lr": 0.01},
        info={"note": "counts"},
    )


@pytest.fixture()
def reads(monkeypatch):
    """Counts opens per file name and JSON parses of a result pointer (a text holding the schema name)."""
    opened: collections.Counter[str] = collections.Counter()
    pointer_parses = [0]
    open_regular, loads = _store._open_regular, json.loads

    def counting_open(file):
        opened[os.path.basename(file) if os.path.basename(file) == POINTER else "arrays"] += 1
        return open_regular(file)

    def counting_loads(text, *args, **kwargs):
        if isinstance(text, str) and f'"schema": "{_store.SCHEMA}"' in text:
            pointer_parses[0] += 1
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(_store, "_open_regular", counting_open)
    monkeypatch.setattr(_store.json, "loads", counting_loads)
    return opened, pointer_parses


@pytest.fixture()
def writes(monkeypatch):
    """Counts writes per file name (the atomic writer) and commits (``os.replace``) during a save."""
    written: collections.Counter[str] = collections.Counter()
    data: dict[str, bytes] = {}
    replaced: list[tuple[str, str]] = []
    write_file, replace = _atomic.write_file, os.replace

    def counting_write(path, payload):
        written[path.name] += 1
        data[path.name] = bytes(payload)
        return write_file(path, payload)

    def counting_replace(src, dst):
        replaced.append((os.path.basename(src), os.path.basename(dst)))
        return replace(src, dst)

    monkeypatch.setattr(_atomic, "write_file", counting_write)
    monkeypatch.setattr(_store.os, "replace", counting_replace)
    return written, data, replaced


@pytest.mark.parametrize("how", ["xattr_lab.load", "Class.load"])
@pytest.mark.parametrize("which", ["explanation", "training"])
def test_load_parses_result_json_once_and_reads_each_file_once(expl, training, tmp_path, reads, how, which):
    result = expl if which == "explanation" else training
    cls = type(result)
    result.save(tmp_path / "r")
    opened, pointer_parses = reads
    opened.clear()
    pointer_parses[0] = 0  # count the load only (a save checks the pointer it replaces)
    back = xattr_lab.load(tmp_path / "r") if how == "xattr_lab.load" else cls.load(tmp_path / "r")
    assert type(back) is cls
    assert dict(opened) == {POINTER: 1, "arrays": 1}
    assert pointer_parses[0] == 1
    # the round trip is intact
    if which == "explanation":
        assert np.array_equal(back.order, expl.order) and np.array_equal(back.insertion, expl.insertion, equal_nan=True)
        assert back.metrics == expl.metrics and back.generation.generated_tokens == expl.generation.generated_tokens
    else:
        assert np.array_equal(back.steps, training.steps) and back.events == training.events
        assert all(np.array_equal(back.series[k], v) for k, v in training.series.items())


def test_an_unknown_kind_is_refused_after_one_parse_without_reading_the_arrays(tmp_path, reads):
    save_result(tmp_path / "x", "Bogus", {"a": 1}, {"z": np.zeros(2)})
    opened, pointer_parses = reads
    opened.clear()
    pointer_parses[0] = 0
    with pytest.raises(ResultFileError, match="unknown result kind 'Bogus'"):
        xattr_lab.load(tmp_path / "x")
    assert dict(opened) == {POINTER: 1} and pointer_parses[0] == 1


@pytest.mark.parametrize("existing", [False, True], ids=["new-dir", "replacing"])
def test_save_writes_each_file_once_and_commits_with_one_rename(expl, tmp_path, writes, existing):
    written, data, replaced = writes
    target = tmp_path / "r"
    if existing:
        expl.save(target)
        written.clear(), data.clear(), replaced.clear()
    expl.save(target)
    arrays = [n for n in written if _atomic.is_arrays_name(n)]
    pointers = [n for n in written if n.endswith(".json.tmp")]
    assert len(arrays) == 1 and len(pointers) == 1 and len(written) == 2
    assert all(count == 1 for count in written.values())
    assert replaced == [(pointers[0], POINTER)]  # one commit: the temporary pointer becomes result.json
    # what was written once is what lies on disk: the pointer names the one arrays file, nothing else is left
    assert (target / POINTER).read_bytes() == data[pointers[0]]
    assert (target / arrays[0]).read_bytes() == data[arrays[0]]
    assert sorted(os.listdir(target)) == sorted([POINTER, arrays[0]])
    assert isinstance(Explanation.load(target), Explanation)
