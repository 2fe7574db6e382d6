"""Executor selection: local by default, Ray lazily with an install hint, options checked."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from xattr_lab.runs.executors import Executor, LocalExecutor, _sample_batches, get_executor
from xattr_lab.runs.work import SampleSpec, WorkUnit


def _units(samples, methods):
    img = np.zeros((4, 4, 3), np.uint8)
    return [WorkUnit(f"{s}/{m}", s, m, SampleSpec(s, "p", img), {}, f"/tmp/{s}/{m}") for s in samples for m in methods]


def test_local_is_the_default_and_an_executor():
    ex = get_executor()
    assert isinstance(ex, LocalExecutor) and isinstance(ex, Executor) and ex.batch_samples == 1
    assert get_executor("local", batch_samples=3).batch_samples == 3


def test_batches_keep_a_samples_units_together():
    units = _units(["a", "b", "c"], ["x", "y"])
    batches = _sample_batches(units, 2)
    assert [[u.key for u in b] for b in batches] == [["a/x", "a/y", "b/x", "b/y"], ["c/x", "c/y"]]
    assert [[u.key for u in b] for b in _sample_batches(units, 1)][1] == ["b/x", "b/y"]


def test_an_empty_map_loads_nothing():
    calls = []
    LocalExecutor().map([], "no-such-model", calls.append)  # no model load for no work
    assert calls == []


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("spark", {}, ValueError, "executor: expected one of local, ray"),
        ("local", {"num_workers": 2}, ValueError, "the local executor takes only batch_samples"),
        ("local", {"batch_samples": 0}, ValueError, "batch_samples: expected a positive int"),
    ],
)
def test_bad_executors_are_named(name, options, error, match):
    with pytest.raises(error, match=match):
        get_executor(name, **options)


def test_ray_missing_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'xattr-lab\[ray\]'"):
        get_executor("ray")
