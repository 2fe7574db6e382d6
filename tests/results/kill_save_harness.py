"""SIGKILL a process at random moments while it saves a large result over and over (issue 14, item 2).

Run as a script (the measurement):

    python tests/results/kill_save_harness.py --mb 100 --kills 50 --seed 0 --dir /tmp/killsave

A child process saves TrainingRun "generations" 1, 2, 3 ... to one path in a loop, printing ``start g``
before and ``done g`` after each save. The parent kills it with SIGKILL after a random delay (uniform over
about two save durations, so kills land in serialisation, writing, fsync, the commit and the clean-up),
then checks:

* the path loads with ``xattr_lab.load`` and holds the generation committed before the interrupted save
  (old) or the interrupted one (new), never anything else and never an error;
* which leftover files the kill left; after ``sweep_stale`` (what the next save runs) none may remain.

Prints one JSON summary line. ``tests/results/test_atomic_save.py`` runs it small (a few kills) in a
subprocess; the numbers in the report come from the command above.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _run(gen: int, mb: float) -> object:
    from xattr_lab.results.training import TrainingRun

    n = max(1, int(mb * 2**20))
    return TrainingRun(
        steps=np.arange(3),
        series={"loss": np.array([3.0, 2.0, 1.0])},
        info={"gen": gen},
        extras={"blob": np.full(n, gen % 251, dtype=np.uint8)},
    )


def child(path: str, mb: float, start: int) -> None:
    """Save generations ``start, start + 1, ...`` to ``path`` until killed."""
    gen = start
    while True:
        run = _run(gen, mb)
        print("start", gen, flush=True)
        run.save(path)
        print("done", gen, flush=True)
        gen += 1


def _referenced(path: Path) -> str | None:
    try:
        doc = json.loads((path / "result.json").read_text())
        return doc.get("arrays_file", "arrays.safetensors")
    except (OSError, ValueError):
        return None


def _leftovers(path: Path) -> list[Path]:
    """Everything in the result directory and its parent that is not the result itself."""
    ref = _referenced(path)
    inside = [p for p in path.iterdir() if p.name not in ("result.json", ref)] if path.is_dir() else []
    beside = [p for p in path.parent.iterdir() if p != path]
    return inside + beside


def _loaded_gen(path: Path) -> tuple[int | None, str]:
    import xattr_lab

    try:
        run = xattr_lab.load(path)
    except Exception as err:  # the measurement records any failure, whatever its type
        return None, f"{type(err).__name__}: {err}"
    blob = run.extras["blob"]
    gen = int(run.info["gen"])
    if blob[0] != gen % 251 or blob[-1] != gen % 251:
        return None, "blob does not match its generation"
    return gen, ""


def measure(directory: Path, mb: float, kills: int, seed: int) -> dict:
    """Kill a saving child ``kills`` times; count loads of old/new, failures and leftovers."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "result"
    t0 = time.perf_counter()
    _run(0, mb).save(path)
    save_s = time.perf_counter() - t0
    committed, gen = 0, 1
    try:
        from xattr_lab.results._store import sweep_stale
    except ImportError:  # the version before the fix has no sweep
        sweep_stale = None
    stats = {"kills": 0, "loaded_old": 0, "loaded_new": 0, "failed": 0, "failures": [],
             "kills_leaving_files": 0, "leftover_bytes_max": 0, "leftovers_after_sweep": 0}  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(path), "--mb", str(mb), "--start", str(gen)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the child is in its save loop from here on
        if not first.startswith("start"):
            proc.kill()
            raise RuntimeError(f"child did not start: {first!r}")
        time.sleep(rng.uniform(0.0, 2.0 * save_s))
        proc.send_signal(signal.SIGKILL)
        rest = proc.communicate()[0]
        lines = [first, *rest.splitlines()]
        started = [int(x.split()[1]) for x in lines if x.startswith("start")]
        done = [int(x.split()[1]) for x in lines if x.startswith("done")]
        last = started[-1]  # the save in flight (unless it printed "done": killed between two saves)
        old = last if last in done else (last - 1 if last - 1 in done else committed)
        loaded, why = _loaded_gen(path)
        stats["kills"] += 1
        if loaded == last:
            stats["loaded_new"] += 1
        elif loaded == old:
            stats["loaded_old"] += 1
        else:
            stats["failed"] += 1
            stats["failures"].append(f"kill {stats['kills']}: loaded {loaded} (old {old}, new {last}) {why}")
        left = _leftovers(path)
        if left:
            stats["kills_leaving_files"] += 1
            size = sum(p.stat().st_size for p in left if p.is_file())
            stats["leftover_bytes_max"] = max(stats["leftover_bytes_max"], size)
        if sweep_stale is not None:
            sweep_stale(path)
        stats["leftovers_after_sweep"] += len(_leftovers(path))
        if loaded is None:  # restore a loadable result so that every kill is judged on its own
            _run(committed, mb).save(path)
        else:
            committed = loaded
        gen = last + 1
    stats["leftover_bytes_at_end"] = sum(p.stat().st_size for p in _leftovers(path) if p.is_file())
    final_gen = gen
    _run(final_gen, 0.001).save(path)
    stats["final_load_ok"] = _loaded_gen(path)[0] == final_gen
    stats["leftovers_after_final_save"] = [p.name for p in _leftovers(path)]
    stats["save_seconds"] = round(save_s, 3)
    stats["mb"] = mb
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/tmp/xattr_killsave")
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child")
    ap.add_argument("--start", type=int, default=1)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.mb, args.start)
        return 0
    print(json.dumps(measure(Path(args.dir), args.mb, args.kills, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
