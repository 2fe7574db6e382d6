"""The Ray executor on a local cluster this module starts (one cluster shared by every test here).

Ray's start-up is the slow part on a 2-core machine (~15 s), so the cluster is a module fixture; the
executor sees Ray already initialised and leaves it running for the next test.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from xattr_lab.runs.ray_executor import RayExecutor, init_ray  # noqa: E402
from xattr_lab.runs.sources import load_samples  # noqa: E402
from xattr_lab.runs.work import WorkUnit  # noqa: E402

# 39 s alone, 145 s with one other job, over 240 s with two CPU-bound jobs beside it: bounded, with headroom
pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]

# wall time differs between any two runs; `versions` lists the libraries a process has loaded (captum only
# once a Captum method ran there), so a fresh Ray worker and a test process differ
_NONDETERMINISTIC = {"seconds", "versions"}


@pytest.fixture(scope="module")
def cluster():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # workers unpickle the fault-injection hooks below by value: they cannot import this test module
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    init_ray(num_cpus=2)
    yield
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _units(out: Path, n: int, methods: tuple[str, ...]) -> list[WorkUnit]:
    samples, _ = load_samples({"name": "shapes", "n": n, "seed": 3})
    units = []
    for s in samples:
        for m in methods:
            params = {"regions": "grid:4", "seed": 11, **({"search": "efficient"} if m == "eagle" else {})}
            units.append(WorkUnit(key=f"{s.sample_id}/{m}", sample_id=s.sample_id, method=m, sample=s,
                                  params=params, result_dir=str(out / s.sample_id / m)))  # fmt: skip
    return units


def _collect(executor, units, model="toy-shapes"):
    seen: list = []
    executor.map(units, model, seen.append)
    return seen


def _kill_hook(unit: WorkUnit, marker_dir: str, once: str, always: str) -> None:
    """Kill the actor's process (as a crash or an OOM kill would) on chosen units."""
    if unit.key == always:
        os._exit(1)
    marker = Path(marker_dir) / "died-once"
    if unit.key == once and not marker.exists():
        marker.touch()
        os._exit(1)


def test_a_ray_run_gives_the_local_runs_table_and_maps(tmp_path):
    # first in the module, before the shared cluster exists: the executor starts a local cluster itself
    # and must leave none running afterwards
    from xattr_lab.runs.api import run

    assert not ray.is_initialized()
    args = ("toy-shapes", {"name": "shapes", "n": 2, "seed": 3}, ["eagle", "random"])
    kwargs = {"regions": "grid:4", "search": "efficient", "progress": False}
    local = run(*args, tmp_path / "local", **kwargs)
    remote = run(*args, tmp_path / "ray", executor="ray", executor_options={"num_workers": 2}, **kwargs)
    assert not ray.is_initialized()
    a, b = local.rows(), remote.rows()
    assert len(a) == len(b) == 4 and [r["key"] for r in a] == [r["key"] for r in b]
    for ra, rb in zip(a, b):
        assert ra["status"] == rb["status"] == "ok", (ra["error"], rb["error"])
        for col in set(ra) | set(rb):
            if col in _NONDETERMINISTIC:
                continue
            x, y = ra.get(col), rb.get(col)
            assert x == y or (x != x and y != y), (ra["key"], col, x, y)
        ea = local.explanation(ra["sample_id"], ra["method"])
        eb = remote.explanation(rb["sample_id"], rb["method"])
        np.testing.assert_array_equal(ea.region_scores, eb.region_scores)
        np.testing.assert_array_equal(ea.pixel_map, eb.pixel_map)
        np.testing.assert_array_equal(ea.order, eb.order)
    assert local.leaderboard("all") == remote.leaderboard("all")


def test_a_killed_worker_is_replaced_and_every_unit_is_reported_once(cluster, tmp_path):
    units = _units(tmp_path / "out", 3, ("random",))
    once, always = units[1].key, units[2].key
    hook = functools.partial(_kill_hook, marker_dir=str(tmp_path), once=once, always=always)
    executor = RayExecutor(num_workers=2, max_retries=1, worker_hook=hook)
    seen = _collect(executor, units)
    keys = [o.key for o in seen]
    assert sorted(keys) == sorted(u.key for u in units)  # nothing lost, nothing twice
    assert len(keys) == len(set(keys))
    assert (tmp_path / "died-once").exists()
    status = {o.key: o.row["status"] for o in seen}
    assert status[once] == "ok"  # died once, then done on a fresh actor
    assert status[always] == "error"  # died on every try: recorded, and the run went on
    failed = next(o for o in seen if o.key == always)
    assert "WorkerLostError" in failed.row["error"] and "2 times" in failed.row["error"]
    assert failed.result_path is None
    assert all(status[u.key] == "ok" for u in units if u.key not in (always,))
    # 1 death of `once` + 2 of `always` (first try + 1 retry); each replaced by a fresh actor
    assert executor.stats["worker_deaths"] == 3
    assert executor.stats["retries"] == 2
    assert executor.stats["actors_started"] == 2 + 3


def test_a_model_the_workers_cannot_load_stops_the_run_with_its_reason(cluster, tmp_path):
    seen: list = []
    with pytest.raises(RuntimeError, match="could not load 'no-such-model'"):
        RayExecutor(num_workers=1).map(_units(tmp_path, 1, ("random",)), "no-such-model", seen.append)
    assert seen == []
    assert ray.is_initialized()  # a cluster the executor did not start is left running
