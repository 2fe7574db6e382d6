"""Dataset runs with the local executor: end to end, resume, failures, corrupt files, changed configs."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

import xattr_lab
from xattr_lab.runs.store import NONDETERMINISTIC, RunStore

KW = {"regions": "grid:2", "search": "efficient", "max_new_tokens": 4}


@pytest.fixture(scope="module")
def toy():
    return xattr_lab.load_model("toy-shapes")


@pytest.fixture()
def flaky():
    """A registered method that fails while ``state["fail"]`` names the sample's prompt, else ranks randomly."""
    from xattr_lab.attr.methods.random import random_order
    from xattr_lab.attr.registry import _REGISTRY, register_method

    state = {"fail": set(), "interrupt": set(), "calls": 0}

    @register_method("runs_test_flaky", family="baseline")
    def runs_test_flaky(ctx, **params):
        state["calls"] += 1
        if ctx.generation.prompt in state["interrupt"]:
            raise KeyboardInterrupt
        if ctx.generation.prompt in state["fail"]:
            raise RuntimeError("flaky: this sample fails today")
        return random_order(ctx, **params)

    yield state
    _REGISTRY.pop("runs_test_flaky", None)


def _counter():
    seen = []
    return seen, lambda info: seen.append((info["key"], info["status"]))


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in NONDETERMINISTIC} for r in rows]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(_strip(a), _strip(b)):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float) and math.isnan(x[k]):
                assert isinstance(y[k], float) and math.isnan(y[k]), k
            else:
                assert x[k] == y[k], (k, x[k], y[k])


def test_end_to_end_table_manifest_leaderboard_drilldown(toy, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "run"
    run = xattr_lab.run(toy, {"name": "shapes", "n": 3, "seed": 5}, ["eagle", "random"], out, progress=False, **KW)
    assert isinstance(run, xattr_lab.Run)
    assert run.counts() == {"total": 6, "ok": 6, "error": 0, "missing": 0}
    rows = run.rows()
    assert [r["key"] for r in rows] == [f"{i}/{m}" for i in range(3) for m in ("eagle", "random")]
    assert all(r["status"] == "ok" and r["error"] is None for r in rows)
    assert all(r["n_forward"] > 0 and r["seconds"] > 0 and r["regions"] == "grid:2x2" for r in rows)
    assert {r["model"] for r in rows} == {"toy-shapes"} and len({r["fingerprint"] for r in rows}) == 1
    assert [r["search"] for r in rows[:2]] == ["efficient", None]
    # the unit seed depends on the sample, not the method: both methods of a sample see the same regions
    assert rows[0]["seed"] == rows[1]["seed"] != rows[2]["seed"]
    # the Parquet file is the same table
    _same(pq.read_table(out / "results.parquet").to_pylist(), rows)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fingerprint"] == rows[0]["fingerprint"] and manifest["n_units"] == 6
    assert manifest["config"]["methods"] == ["eagle", "random"] and "pyarrow" in manifest["versions"]
    # drill down: the saved Explanation is the one the row measured, and evaluate() agrees with the row
    exp = run.explanation("1", "eagle")
    assert exp.method == "eagle" and exp.insertion_auc == pytest.approx(rows[2]["insertion_auc"])
    again = xattr_lab.evaluate(toy, exp)
    assert again["insertion_auc"] == pytest.approx(rows[2]["insertion_auc"], abs=1e-9)
    assert again["deletion_auc"] == pytest.approx(rows[2]["deletion_auc"], abs=1e-9)
    # shapes samples carry the asked-about object's mask and box: the pointing game is played
    for sample, pair in zip(xattr_lab.datasets.shapes(3, 5), (rows[0:2], rows[2:4], rows[4:6])):
        for r in pair:
            played = sample.target is not None
            assert (r["pointing_box"] in (0.0, 1.0) and r["pointing_mask"] in (0.0, 1.0)) if played else (
                math.isnan(r["pointing_box"]) and math.isnan(r["pointing_mask"]))
    board = run.leaderboard(task="all")
    assert [b["method"] for b in board] == ["eagle", "random"]
    assert board[0]["n"] == 3 and board[0]["low"] <= board[0]["mean"] <= board[0]["high"]
    eagle = [r["insertion_auc"] for r in rows if r["method"] == "eagle"]
    rand = [r["insertion_auc"] for r in rows if r["method"] == "random"]
    assert board[0]["mean"] == pytest.approx(np.mean(eagle))
    assert board[1]["diff"] == pytest.approx(np.mean(rand) - np.mean(eagle))
    assert board[1]["n_paired"] == 3 and 0.0 <= board[1]["win_rate"] <= 1.0 and board[0]["diff"] is None
    sat = run.saturation()
    assert sat.random_insertion == pytest.approx(np.mean(rand)) and sat.best == ("eagle", pytest.approx(np.mean(eagle)))
    view = run.to_view_data()
    assert view["counts"]["ok"] == 6 and "insertion_auc" in view["leaderboards"] and len(view["rows"]) == 6
    # running the same call again does nothing and gives the same table
    seen, cb = _counter()
    again_run = xattr_lab.run(toy, {"name": "shapes", "n": 3, "seed": 5}, ["eagle", "random"], out, progress=cb, **KW)
    assert seen == []
    _same(again_run.rows(), rows)


def test_run_units_equals_run_unit_one_by_one(toy, tmp_path):
    from xattr_lab.runs.work import SampleSpec, WorkUnit, run_unit, run_units

    s = next(xattr_lab.datasets.shapes(1, 3))
    spec = SampleSpec("s", s.prompt, s.image, task=s.task, answer=s.answer, mask=s.masks[0], boxes=(s.boxes[0],))
    units = [WorkUnit(f"s/{m}", "s", m, spec, {"regions": "grid:2", "seed": 7, "max_new_tokens": 4},
                      str(tmp_path / m)) for m in ("random", "eagle")]  # fmt: skip
    batched = [o.row for o in run_units(toy, units)]
    single = [run_unit(toy, u).row for u in units]
    _same(batched, single)
    assert all(r["status"] == "ok" for r in batched)


def test_a_failing_sample_records_its_error_and_the_run_goes_on(toy, tmp_path):
    images = [s.image for s in xattr_lab.datasets.shapes(3, 1)]
    rows = [{"id": f"img{i}", "image": im, "prompt": "what colour is the circle ?"} for i, im in enumerate(images)]
    rows[1]["mask"] = np.ones((5, 5), bool)  # does not match the 96 x 96 image: that sample raises
    run = xattr_lab.run(toy, rows, ["random", "eagle"], tmp_path / "r", progress=False, **KW)
    assert run.counts() == {"total": 6, "ok": 4, "error": 2, "missing": 0}
    failed = run.failed()
    assert [r["key"] for r in failed] == ["img1/random", "img1/eagle"]
    assert all(r["error"].startswith("ValueError: mask:") and math.isnan(r["insertion_auc"]) for r in failed)
    with pytest.raises(KeyError, match="img1/eagle failed: ValueError: mask"):
        run.explanation("img1", "eagle")
    assert run.explanation("img2", "eagle").method == "eagle"


def test_failed_units_are_redone_on_resume(toy, tmp_path, flaky):
    data = {"name": "shapes", "n": 3, "seed": 2}
    prompts = [s.prompt for s in xattr_lab.datasets.shapes(3, 2)]
    flaky["fail"] = {prompts[1]}
    first = xattr_lab.run(toy, data, ["runs_test_flaky"], tmp_path / "r", progress=False, **KW)
    assert first.counts()["error"] == 1 and first.failed()[0]["key"] == "1/runs_test_flaky"
    flaky["fail"] = set()
    seen, cb = _counter()
    second = xattr_lab.run(toy, data, ["runs_test_flaky"], tmp_path / "r", progress=cb, **KW)
    assert seen == [("1/runs_test_flaky", "ok")]  # only the failed unit ran again
    assert second.counts() == {"total": 3, "ok": 3, "error": 0, "missing": 0}
    assert [r["key"] for r in second.rows()] == [f"{i}/runs_test_flaky" for i in range(3)]


def test_ctrl_c_keeps_finished_units_and_the_next_run_completes(toy, tmp_path, flaky):
    data = {"name": "shapes", "n": 3, "seed": 4}
    prompts = [s.prompt for s in xattr_lab.datasets.shapes(3, 4)]
    flaky["interrupt"] = {prompts[2]}
    with pytest.raises(KeyboardInterrupt):
        xattr_lab.run(toy, data, ["runs_test_flaky"], tmp_path / "r", progress=False, **KW)
    cut = xattr_lab.load_run(tmp_path / "r")
    assert cut.counts() == {"total": 3, "ok": 2, "error": 0, "missing": 1}
    assert (tmp_path / "r" / "results.parquet").is_file()  # the table was written on the way out
    flaky["interrupt"] = set()
    seen, cb = _counter()
    done = xattr_lab.run(toy, data, ["runs_test_flaky"], tmp_path / "r", progress=cb, **KW)  # the lock was released
    assert seen == [("2/runs_test_flaky", "ok")] and done.counts()["ok"] == 3


@pytest.mark.parametrize("verify", ["full", "quick"])
def test_corrupt_or_partial_result_files_are_detected_and_redone(toy, tmp_path, verify):
    data = {"name": "shapes", "n": 3, "seed": 6}
    out = tmp_path / "r"
    first = xattr_lab.run(toy, data, ["random"], out, progress=False, **KW)
    store = RunStore(out)
    # 0: the arrays file truncated; 1: the pointer gone (a save cut off); 2: the row file is garbage
    arrays = next(store.result_dir("0", "random").glob("arrays-*.safetensors"))
    arrays.write_bytes(arrays.read_bytes()[:100])
    os.unlink(store.result_dir("1", "random") / "result.json")
    from xattr_lab.runs.store import row_file_name

    (out / "rows" / row_file_name("2/random")).write_text('{"key": "2/ran')
    seen, cb = _counter()
    again = xattr_lab.run(toy, data, ["random"], out, progress=cb, verify=verify, **KW)
    assert sorted(seen) == [("0/random", "ok"), ("1/random", "ok"), ("2/random", "ok")]
    _same(again.rows(), first.rows())
    for i in range(3):
        assert again.explanation(str(i), "random").method == "random"


def test_a_changed_config_is_refused_unless_branching(toy, tmp_path):
    data = {"name": "shapes", "n": 2, "seed": 0}
    out = tmp_path / "r"
    xattr_lab.run(toy, data, ["random"], out, progress=False, **KW)
    with pytest.raises(ValueError, match=r"different config \(changed: regions: 'grid:2' -> 'grid:3'\).*branch=True"):
        xattr_lab.run(toy, data, ["random"], out, progress=False, **{**KW, "regions": "grid:3"})
    with pytest.raises(ValueError, match=r"dataset.n: 2 -> 3"):
        xattr_lab.run(toy, {**data, "n": 3}, ["random"], out, progress=False, **KW)
    branched = xattr_lab.run(toy, data, ["random"], out, progress=False, branch=True, **{**KW, "regions": "grid:3"})
    assert branched.path.parent == out.parent and branched.path.name.startswith("r-") and branched.path != out
    assert branched.counts()["ok"] == 2 and {r["regions"] for r in branched.rows()} == {"grid:3x3"}
    assert {r["regions"] for r in xattr_lab.load_run(out).rows()} == {"grid:2x2"}  # the original is untouched
    again = xattr_lab.run(toy, data, ["random"], out, progress=False, branch=True, **{**KW, "regions": "grid:3"})
    assert again.path == branched.path  # the same changed config resumes its branch


def test_a_second_driver_on_the_same_folder_is_refused(toy, tmp_path):
    out = tmp_path / "r"
    xattr_lab.run(toy, {"name": "shapes", "n": 1}, ["random"], out, progress=False, **KW)
    holder = RunStore(out)
    holder.lock()
    try:
        with pytest.raises(ValueError, match="another run is writing"):
            xattr_lab.run(toy, {"name": "shapes", "n": 1}, ["random"], out, progress=False, **KW)
    finally:
        holder.unlock()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"methods": []}, TypeError, "methods: expected"),
        ({"methods": ["nope"]}, ValueError, "nope"),
        ({"methods": ["random", "random"]}, ValueError, "listed twice"),
        ({"executor": "cluster"}, ValueError, "executor: expected one of local, ray"),
        ({"executor_options": {"address": "x"}}, ValueError, "executor_options"),
        ({"regions": np.zeros((4, 4), int)}, TypeError, "regions: a run takes a region spec"),
        ({"dataset": 42}, TypeError, "dataset: expected"),
        ({"dataset": "no-such-thing"}, ValueError, "neither a built-in generator"),
        ({"model": 3}, TypeError, "model: expected"),
        ({"generation": 1}, ValueError, "generation: a run sets it"),
        ({"seed": -1}, ValueError, "seed"),
        ({"verify": "md5"}, ValueError, "verify: expected 'full' or 'quick'"),
    ],
)
def test_bad_arguments_are_named(toy, tmp_path, kwargs, error, match):
    args = {"model": toy, "dataset": {"name": "shapes", "n": 1}, "methods": ["random"], "out_dir": tmp_path / "r"}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        xattr_lab.run(progress=False, **args)


def test_out_dir_that_is_a_file_is_refused(toy, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="out_dir: .* is not a directory"):
        xattr_lab.run(toy, {"name": "shapes", "n": 1}, ["random"], tmp_path / "f", progress=False)
    with pytest.raises(ValueError, match="not a run directory"):
        xattr_lab.load_run(tmp_path)


def test_a_kill_between_saving_and_recording_leaves_nothing_twice(toy, tmp_path):
    """The crash points of a unit: result saved but no row yet, a row's temporary file, a table's."""
    data = {"name": "shapes", "n": 2, "seed": 8}
    out = tmp_path / "r"
    first = xattr_lab.run(toy, data, ["random"], out, progress=False, **KW)
    from xattr_lab.runs.store import row_file_name

    (out / "rows" / row_file_name("1/random")).unlink()  # killed after the save, before the row
    (out / "rows" / ".tmp-999999-deadbeef.json").write_text('{"key": "1/random", "status": "ok"')
    (out / ".tmp-999999-deadbeef.parquet").write_bytes(b"PAR1")
    assert xattr_lab.load_run(out).counts() == {"total": 2, "ok": 1, "error": 0, "missing": 1}
    seen, cb = _counter()
    again = xattr_lab.run(toy, data, ["random"], out, progress=cb, **KW)
    assert seen == [("1/random", "ok")]
    assert not [p for p in out.rglob(".tmp-*")]
    assert [r["key"] for r in again.rows()] == ["0/random", "1/random"]
    _same(again.rows(), first.rows())
