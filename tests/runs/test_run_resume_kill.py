"""Resume after SIGKILL: a run killed with -9 partway, resumed, equals an uninterrupted run (no duplicates)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import xattr_lab
from xattr_lab.bench.resume import compare_tables
from xattr_lab.runs.store import NONDETERMINISTIC

DATA = {"name": "shapes", "n": 5, "seed": 9}
METHODS = ["eagle", "random"]
KW = {"regions": "grid:2", "search": "efficient", "max_new_tokens": 4}
CHILD = textwrap.dedent(
    f"""
    import sys, xattr_lab
    xattr_lab.run("toy-shapes", {DATA!r}, {METHODS!r}, sys.argv[1], progress=False, **{KW!r})
    """
)


def _rows(out):
    folder = out / "rows"
    return [e.name for e in os.scandir(folder) if not e.name.startswith(".")] if folder.is_dir() else []


@pytest.mark.slow  # a child process loads torch and the model (~15 s alone, more on a busy machine)
def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_table(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(killed)], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_rows(killed)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    before = xattr_lab.load_run(killed)
    n_before = before.counts()
    assert n_before["total"] == 10 and 3 <= n_before["ok"] < 10 and n_before["error"] == 0
    assert n_before["ok"] + n_before["missing"] == 10
    # resume in this process (the same config), then an uninterrupted run of it elsewhere
    resumed = xattr_lab.run("toy-shapes", DATA, METHODS, killed, progress=False, **KW)
    assert resumed.counts() == {"total": 10, "ok": 10, "error": 0, "missing": 0}
    keys = resumed.table.column("key").to_pylist()
    assert len(keys) == len(set(keys)) == 10 and len(_rows(killed)) == 10
    assert not [e for e in os.scandir(killed / "rows") if e.name.startswith(".tmp-")]
    reference = xattr_lab.run("toy-shapes", DATA, METHODS, clean, progress=False, **KW)
    cmp = compare_tables(resumed.table, reference.table, tuple(NONDETERMINISTIC))
    assert cmp["equal"], cmp
    assert cmp["columns_compared"] > 20


def test_compare_tables_sees_a_difference():
    import pyarrow as pa

    a = pa.table({"key": ["x", "y"], "v": [1.0, float("nan")], "seconds": [1.0, 2.0]})
    b = pa.table({"key": ["x", "y"], "v": [1.0, float("nan")], "seconds": [5.0, 6.0]})
    assert compare_tables(a, b, ("seconds",))["equal"]
    c = pa.table({"key": ["x", "z"], "v": [2.0, 1.0], "seconds": [1.0, 2.0]})
    out = compare_tables(a, c, ("seconds",))
    assert not out["equal"] and out["differing_cells_by_column"] == {"v": 1} and out["keys_only_in_first"] == 1
