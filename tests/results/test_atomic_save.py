"""Atomic save: a kill or an error at any moment leaves the old or the new result (issue 14, item 2)."""

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import xattr_lab
from xattr_lab.results import _atomic
from xattr_lab.results._store import ResultFileError, save_result, sweep_stale
from xattr_lab.results.training import TrainingRun

HARNESS = Path(__file__).with_name("kill_save_harness.py")


def _run(gen, n=1000):
    return TrainingRun(
        steps=np.arange(2), series={"a": np.array([1.0, 2.0])}, info={"gen": gen}, extras={"x": np.full(n, gen)}
    )


def _names(path):
    return sorted(p.name for p in Path(path).iterdir())


def _pointed(path):
    return json.loads((Path(path) / "result.json").read_text())["arrays_file"]


def test_sigkill_during_saves_leaves_old_or_new(tmp_path):
    # The saving process is SIGKILLed at random moments; a child process so nothing here can be harmed.
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "--dir", str(tmp_path / "k"), "--mb", "3", "--kills", "4", "--seed", "3"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads(proc.stdout.splitlines()[-1])
    assert stats["kills"] == 4 and stats["failed"] == 0, stats["failures"]
    assert stats["loaded_old"] + stats["loaded_new"] == 4
    assert stats["leftovers_after_sweep"] == 0 and stats["leftovers_after_final_save"] == []
    assert stats["final_load_ok"]


def test_a_resave_leaves_exactly_the_pointer_and_one_arrays_file(tmp_path):
    p = tmp_path / "r"
    _run(1).save(p)
    first = _pointed(p)
    _run(2).save(p)
    assert _names(p) == sorted(["result.json", _pointed(p)]) and _pointed(p) != first
    assert xattr_lab.load(p).info["gen"] == 2
    assert _names(tmp_path) == ["r"]  # nothing written beside the result either


@pytest.mark.parametrize("fail_on", [1, 2])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_write_keeps_the_old_result_and_cleans_up(tmp_path, monkeypatch, fail_on, error):
    p = tmp_path / "r"
    _run(1).save(p)
    before = _names(p)
    real, calls = _atomic.write_file, []

    def failing(path, data):
        calls.append(path)
        if len(calls) == fail_on:
            real(path, data[: len(data) // 2])  # a half-written file, as a crash would leave
            raise error

    monkeypatch.setattr(_atomic, "write_file", failing)
    with pytest.raises(type(error)):
        _run(2).save(p)
    assert _names(p) == before
    assert xattr_lab.load(p).info["gen"] == 1


def test_failed_first_save_removes_the_directory_it_created(tmp_path, monkeypatch):
    def failing(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic, "write_file", failing)
    with pytest.raises(OSError):
        _run(1).save(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        p = _run(1).save(tmp_path / "r")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o750
    assert {stat.S_IMODE(f.stat().st_mode) for f in p.iterdir()} == {0o640}


def test_empty_path_never_writes_into_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="path: empty"):
        _run(1).save("")
    with pytest.raises(ResultFileError, match="path: empty"):
        xattr_lab.load("")
    assert _names(tmp_path) == []


def test_foreign_directories_and_files_are_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"holds other things \(notes.txt\)"):
        _run(1).save(tmp_path / "mine")
    assert _names(tmp_path / "mine") == ["notes.txt"]
    (tmp_path / "f").write_text("a file")
    with pytest.raises(ValueError, match="not a directory"):
        _run(1).save(tmp_path / "f")
    with pytest.raises(ValueError, match="below a file"):
        _run(1).save(tmp_path / "f" / "sub")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "result.json").write_text('{"someone": "else"}')
    with pytest.raises(ValueError, match="not a readable result"):
        _run(1).save(tmp_path / "other")
    (tmp_path / "empty").mkdir()
    assert xattr_lab.load(_run(1).save(tmp_path / "empty")).info["gen"] == 1


def test_leftovers_of_dead_writers_are_swept_and_live_ones_kept(tmp_path):
    p = _run(1).save(tmp_path / "r")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = _atomic._HOST
    dead_files = [f"arrays-{host}-{dead.pid}-0000abcd.safetensors", f".result-{host}-{dead.pid}-0000abcd.json.tmp"]
    live = f"arrays-{host}-{os.getppid()}-0000abcd.safetensors"  # our parent is alive
    foreign_host = "arrays-ffffffff-1-0000abcd.safetensors"
    legacy = ".arrays.safetensors.ab12cd34"  # the temp files of the old, non-atomic writer
    for name in [*dead_files, live, foreign_host, legacy]:
        (p / name).write_bytes(b"x" * 10)
    assert sorted(sweep_stale(p)) == sorted([*dead_files, legacy])
    assert live in _names(p) and foreign_host in _names(p)
    old = time.time() - _atomic.STALE_SECONDS - 60
    os.utime(p / foreign_host, (old, old))
    assert sweep_stale(p) == [foreign_host]
    assert xattr_lab.load(p).info["gen"] == 1


def test_an_interrupted_first_save_is_named_and_replaced(tmp_path):
    p = tmp_path / "r"
    p.mkdir()
    (p / f"arrays-{_atomic._HOST}-999999999-0000abcd.safetensors").write_bytes(b"half")
    with pytest.raises(ResultFileError, match="interrupted save"):
        xattr_lab.load(p)
    _run(1).save(p)
    assert xattr_lab.load(p).info["gen"] == 1 and len(_names(p)) == 2


def test_version_1_results_load_and_are_replaced_cleanly(tmp_path):
    from safetensors.numpy import save as st_save

    from xattr_lab.results._store import _digest

    run = _run(7)
    p = tmp_path / "v1"
    p.mkdir()
    arrays = {"steps": run.steps, "series.a": run.series["a"], "extras.x": run.extras["x"]}
    data = st_save(arrays)
    meta = json.dumps({"labels": {}, "events": {}, "config": {}, "info": {"gen": 7}}, sort_keys=True)
    doc = {"schema": "xattr-lab-result", "kind": "TrainingRun", "version": 1, "meta": meta,
           "sha256": _digest(meta, data), "n_array_bytes": len(data)}  # fmt: skip
    (p / "arrays.safetensors").write_bytes(data)
    (p / "result.json").write_text(json.dumps(doc))
    assert xattr_lab.load(p).info["gen"] == 7
    _run(8).save(p)
    assert "arrays.safetensors" not in _names(p) and len(_names(p)) == 2
    assert xattr_lab.load(p).info["gen"] == 8


def test_loads_during_concurrent_saves_always_see_a_whole_result(tmp_path):
    p = _run(0).save(tmp_path / "r")
    stop, seen, errors = threading.Event(), set(), []

    def reader():
        while not stop.is_set():
            try:
                r = xattr_lab.load(p)
                assert (r.extras["x"] == r.info["gen"]).all()
                seen.add(r.info["gen"])
            except Exception as err:  # recorded and asserted below
                errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for gen in range(1, 40):
            _run(gen, 20_000).save(p)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[:3]
    assert len(seen) > 1 and len(_names(p)) == 2


def test_concurrent_saves_to_one_path_leave_one_whole_result(tmp_path):
    p = tmp_path / "r"
    errors = []

    def writer(base):
        for gen in range(base, base + 10):
            try:
                _run(gen).save(p)
            except Exception as err:  # recorded and asserted below
                errors.append(err)

    threads = [threading.Thread(target=writer, args=(b,)) for b in (0, 100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    r = xattr_lab.load(p)
    assert (r.extras["x"] == r.info["gen"]).all()
    assert len(_names(p)) == 2  # every superseded arrays file was deleted


def test_metadata_that_is_not_json_fails_before_anything_is_written(tmp_path):
    with pytest.raises(TypeError, match="meta"):
        save_result(tmp_path / "x", "TrainingRun", {"bad": object()}, {})
    assert not (tmp_path / "x").exists()
