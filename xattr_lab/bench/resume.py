"""Kill a dataset run with SIGKILL partway, resume it, and compare it with an uninterrupted run.

``xattr-lab bench resume`` (or ``python -m xattr_lab.bench.resume``): a run (default 200 ``shapes``
samples x eagle-efficient, feature_ablation, random on grid:4 regions with the ShapesVLM) is started in a
child process and killed with ``kill -9`` each time its row count passes a fraction of the units (plus a
seeded random delay, so the kill lands anywhere in a unit: mid-explanation, mid-save, mid-row); the same
command then resumes it to the end. A second, uninterrupted run of the same config goes into a sibling
folder. Printed as JSON: the counts before and after every kill and after the resume, duplicate keys,
and whether the two tables are equal on their deterministic columns (every column but the timing and the
versions string).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

METHODS = ("eagle", "feature_ablation", "random")


def _config(n: int, seed: int) -> dict[str, Any]:
    return {"model": "toy-shapes", "dataset": {"name": "shapes", "n": n, "seed": seed}, "methods": list(METHODS),
            "regions": "grid:4", "search": "efficient", "max_new_tokens": 8}  # fmt: skip


def _child(out: str, n: int, seed: int) -> int:
    from xattr_lab.runs.api import run

    cfg = _config(n, seed)
    run(cfg["model"], cfg["dataset"], cfg["methods"], out, regions=cfg["regions"], search=cfg["search"],
        progress=False, max_new_tokens=cfg["max_new_tokens"])  # fmt: skip
    return 0


def _start(out: Path, n: int, seed: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "xattr_lab.bench.resume", "--child", str(out), "--n", str(n), "--seed", str(seed)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _row_files(out: Path) -> int:
    rows = out / "rows"
    return sum(1 for e in os.scandir(rows) if e.name.endswith(".json") and not e.name.startswith(".")) \
        if rows.is_dir() else 0  # fmt: skip


def _snapshot(out: Path) -> dict[str, Any]:
    """Counts as load_run sees them, plus the leftovers a kill leaves (temporary files)."""
    from xattr_lab.runs.result import load_run

    run = load_run(out)
    keys = run.table.column("key").to_pylist() if run.table.num_rows else []
    tmp = sum(1 for e in os.scandir(out / "rows") if e.name.startswith(".tmp-"))
    saved = sum(1 for _ in (out / "explanations").glob("*/*/result.json"))
    return {**run.counts(), "rows": len(keys), "duplicate_keys": len(keys) - len(set(keys)), "tmp_row_files": tmp,
            "saved_explanations": saved}  # fmt: skip


def _wait(proc: subprocess.Popen, what: str) -> float:
    start = time.monotonic()
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{what} exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return time.monotonic() - start


def compare_tables(a: Any, b: Any, skip: tuple[str, ...]) -> dict[str, Any]:
    """Whether two result tables hold the same rows (by key) on every column but ``skip``."""
    ra = {r["key"]: r for r in a.to_pylist()}
    rb = {r["key"]: r for r in b.to_pylist()}
    cols = sorted((set(a.column_names) | set(b.column_names)) - set(skip))
    differing: dict[str, int] = {}
    for key in set(ra) & set(rb):
        for c in cols:
            x, y = ra[key].get(c), rb[key].get(c)
            same = x == y or (isinstance(x, float) and isinstance(y, float) and x != x and y != y)  # NaN == NaN
            if not same:
                differing[c] = differing.get(c, 0) + 1
    return {"keys_only_in_first": len(set(ra) - set(rb)), "keys_only_in_second": len(set(rb) - set(ra)),
            "columns_compared": len(cols), "differing_cells_by_column": differing,
            "equal": not differing and set(ra) == set(rb)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="xattr-lab bench resume", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="samples (units = samples x 3 methods)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kill-at", default="0.3,0.65", help="kill -9 when this fraction of units has rows")
    p.add_argument("--jitter", type=float, default=0.5,
                   help="then wait a seeded random 0..JITTER seconds, so the kill lands anywhere in a unit")
    p.add_argument("--out", default=None, help="folder for the two runs (default: a temporary one)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child(args.child, args.n, args.seed)
    from xattr_lab.runs.result import load_run
    from xattr_lab.runs.store import NONDETERMINISTIC

    fractions = [float(f) for f in args.kill_at.split(",") if f.strip()]
    if args.n < 1 or not all(0.0 < f < 1.0 for f in fractions):
        raise ValueError("--n must be positive and --kill-at fractions in (0, 1)")
    base = Path(args.out or tempfile.mkdtemp(prefix="xattr-resume-"))
    killed, uninterrupted = base / "killed", base / "uninterrupted"
    units = args.n * len(METHODS)
    report: dict[str, Any] = {"config": _config(args.n, args.seed), "units": units, "kills": []}
    t0 = time.monotonic()
    rng = random.Random(args.seed)
    for fraction in fractions:
        proc = _start(killed, args.n, args.seed)
        target = int(fraction * units)
        while _row_files(killed) < target and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise RuntimeError(f"the run ended before {target} rows; lower --kill-at")
        time.sleep(rng.uniform(0.0, max(args.jitter, 0.0)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        report["kills"].append({"at_fraction": fraction, "returncode": proc.returncode, **_snapshot(killed)})
        print(f"killed at {report['kills'][-1]}", file=sys.stderr)
    report["resume_seconds"] = round(_wait(_start(killed, args.n, args.seed), "resume"), 1)
    report["interrupted_total_seconds"] = round(time.monotonic() - t0, 1)
    report["after_resume"] = _snapshot(killed)
    print(f"resumed: {report['after_resume']}", file=sys.stderr)
    report["uninterrupted_seconds"] = round(_wait(_start(uninterrupted, args.n, args.seed), "uninterrupted"), 1)
    report["uninterrupted"] = _snapshot(uninterrupted)
    skip = tuple(NONDETERMINISTIC)
    report["compare"] = compare_tables(load_run(killed).table, load_run(uninterrupted).table, skip)
    report["compare"]["skipped_columns"] = list(skip)
    report["out"] = str(base)
    print(json.dumps(report, indent=1, default=str))
    return 0 if report["compare"]["equal"] and report["after_resume"]["duplicate_keys"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
