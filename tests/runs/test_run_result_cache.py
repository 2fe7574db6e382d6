"""Run converts its table once, and saturation() gives the leaderboard's means without running one."""

from __future__ import annotations

import math

import pytest

import xattr_lab
from xattr_lab.metrics.uncertainty import saturation
from xattr_lab.runs.result import Run, load_run
from xattr_lab.runs.store import RunStore

METHODS = ["eagle", "feature_ablation", "random"]


def _row(sample, method, task, ins, dele, status="ok"):
    return {"key": f"{sample}/{method}", "sample_index": sample, "sample_id": str(sample), "method": method,
            "task": task, "status": status, "error": None if status == "ok" else "RuntimeError: boom",
            "insertion_auc": ins, "deletion_auc": dele, "n_forward": 4.0, "seconds": 0.1,
            "result_path": None}  # fmt: skip


@pytest.fixture()
def synthetic_run(tmp_path):
    """Two tasks and a sample without one; NaNs, an error row, a method with no finite value in one task."""
    store = RunStore(tmp_path / "run")
    store.write_manifest({"fingerprint": "f" * 16, "config": {"methods": METHODS}, "n_units": 27})
    store.lock()  # as the driver does: makes rows/
    tasks = ["count", "count", "count", "color", "color", "color", None, None, None]
    for i, task in enumerate(tasks):
        for j, m in enumerate(METHODS):
            ins = 0.9 - 0.17 * j + 0.013 * ((i * 7 + j * 3) % 5)
            if (m == "feature_ablation" and task == "color") or (i, m) == (1, "eagle"):
                ins = float("nan")
            status = "error" if (i, m) == (4, "random") else "ok"
            store.append(_row(i, m, task, ins, 0.2 + 0.01 * i, status))
    store.unlock()
    return load_run(store.path)


def _same_saturation(a, b):
    assert a.warnings == b.warnings and a.best == b.best and a.worst == b.worst
    for x, y in ((a.random_insertion, b.random_insertion), (a.spread, b.spread)):
        assert (math.isnan(x) and math.isnan(y)) or x == y


@pytest.mark.parametrize("task", ["all", "count", "color", None])
def test_saturation_equals_the_guard_on_the_leaderboards_means(synthetic_run, task):
    board = synthetic_run.leaderboard(task, "insertion_auc", None, n_boot=1)
    expected = saturation({b["method"]: b["mean"] for b in board})
    got = synthetic_run.saturation(task)
    _same_saturation(got, expected)
    if task == "color":  # feature_ablation has no finite value there: left out, as the board's NaN mean is
        assert got.best[0] == got.worst[0] == "eagle" and math.isnan(got.spread)


def test_saturation_refuses_what_the_leaderboard_refuses(synthetic_run):
    with pytest.raises(ValueError, match="task: 'nope' is not in this run"):
        synthetic_run.saturation("nope")
    bare = Run(synthetic_run.path, synthetic_run.manifest, synthetic_run.table.drop(["insertion_auc"]))
    with pytest.raises(ValueError, match="metric: 'insertion_auc' is not a column"):
        bare.saturation()


def _plain(rows):
    """Rows with NaN spelled "nan", so that == compares them (NaN != NaN)."""
    return [{k: "nan" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]


class _CountingTable:
    """A pyarrow Table that counts ``to_pylist`` calls (a Table's own methods cannot be patched)."""

    def __init__(self, table):
        self._table, self.conversions = table, 0

    def to_pylist(self):
        self.conversions += 1
        return self._table.to_pylist()

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_rows_are_converted_once_and_handed_out_fresh(synthetic_run):
    table = _CountingTable(synthetic_run.table)
    run = Run(synthetic_run.path, synthetic_run.manifest, table)
    first = run.rows()
    assert _plain(first) == _plain(synthetic_run.table.to_pylist())
    run.leaderboard(None, "insertion_auc", "eagle", n_boot=20)
    run.leaderboard("count", "deletion_auc", "eagle", n_boot=20)
    run.saturation()
    view = run.to_view_data()
    failed = run.failed()
    with pytest.raises(KeyError, match="4/random failed: RuntimeError: boom"):
        run.explanation("4", "random")
    assert _plain(run.rows()) == _plain(first) and table.conversions == 1
    assert [r["key"] for r in failed] == ["4/random"] and len(view["rows"]) == 27
    # a caller changing what it got changes nothing for the next caller
    first[0]["insertion_auc"] = -1.0
    first.pop()
    failed[0]["status"] = "ok"
    view["rows"][0]["key"] = "changed"
    again = run.rows()
    assert _plain(again) == _plain(synthetic_run.table.to_pylist()) and [r["key"] for r in run.failed()] == ["4/random"]
    assert run.to_view_data()["rows"][0]["key"] == "0/eagle"


def test_saturation_matches_the_leaderboard_on_a_toy_run(tmp_path):
    """The small run the end-to-end test builds (shapes, n=3, seed 5, eagle and random)."""
    toy = xattr_lab.load_model("toy-shapes")
    kw = {"regions": "grid:2", "search": "efficient", "max_new_tokens": 4}
    run = xattr_lab.run(toy, {"name": "shapes", "n": 3, "seed": 5}, ["eagle", "random"], tmp_path / "r",
                        progress=False, **kw)  # fmt: skip
    board = run.leaderboard("all", "insertion_auc", None)
    sat = run.saturation()
    _same_saturation(sat, saturation({b["method"]: b["mean"] for b in board}))
    assert sat.random_insertion == board[1]["mean"] and sat.best == ("eagle", board[0]["mean"])
