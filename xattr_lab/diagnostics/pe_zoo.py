"""Train one small model per positional-encoding scheme and tabulate accuracy, contraction and deposit.

Run ``python -m xattr_lab.diagnostics.pe_zoo [--preset cpu|gpu|tiny] [--task trigger_distance]`` to print
a JSON table (one row per scheme). The numbers are whatever the runs give — including where they disagree
with the paper's claims (RoPE best on trigger distance, a layer-0/1 deposit under RoPE, MLA diffusing it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np
import torch

from xattr_lab.diagnostics.pe.models import PE_SCHEMES
from xattr_lab.diagnostics.pe.tasks import TASKS
from xattr_lab.diagnostics.pe.train import PE_PRESETS, PETrainer
from xattr_lab.diagnostics.spectral.analyzer import PESpectrum
from xattr_lab.diagnostics.spectral.deposit import HeadAblation
from xattr_lab.results.spectrum import SpectrumReport


def run_scheme(pe: str, data, preset: dict[str, Any], n_probe: int = 32, seed: int = 42) -> tuple[dict, SpectrumReport]:
    """Train one scheme, then measure its spectrum (on test sequences) and its head deposit.

    Returns:
        ``(row, report)``: the table row and the SpectrumReport with the deposit attached.
    """
    t0 = time.perf_counter()
    trainer = PETrainer(pe=pe, seed=seed, **preset).fit(data)
    model = trainer.model_
    probe = data.x_test[:n_probe]
    report = PESpectrum(seq_len=probe.shape[1], n_sequences=len(probe)).fit(model, probe).result()
    zero = HeadAblation("zero", n_eval=1000).fit(model, data.x_test, data.y_test, chance=data.chance)
    mean = HeadAblation("mean", n_eval=1000).fit(model, data.x_test, data.y_test, chance=data.chance)
    report = report.with_deposit(zero.drop_, zero.summary_)
    cr = report.stats["contraction_ratio"]
    row = {
        "pe": pe,
        "test_acc": round(trainer.test_acc_, 4),
        "chance": round(data.chance, 4),
        "contraction_ratio_median": _r(np.nanmedian(cr)) if np.isfinite(cr).any() else None,
        "contraction_ratio_layer0": _r(np.nanmedian(cr[0])) if np.isfinite(cr[0]).any() else None,
        "toeplitz_fraction_median": _r(np.nanmedian(report.stats["toeplitz_fraction"])),
        "deposit_share_zero": _r(zero.summary_["deposit_share"]),
        "deposit_share_mean": _r(mean.summary_["deposit_share"]),
        "n_eff_heads_zero": _r(zero.summary_["n_eff_heads"]),
        "gini_zero": _r(zero.summary_["gini"]),
        "max_norm_drop_zero": _r(zero.summary_["max_norm_drop"]),
        "deposit_at": [zero.summary_["deposit_layer"], zero.summary_["deposit_head"]],
        "deposit_flag": zero.summary_["deposit"],
        # Ablation drops of a model at chance are noise: read the deposit columns only where this is True.
        "learned_task": bool(trainer.test_acc_ > max(2 * data.chance, data.chance + 0.1)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return row, report


def _r(x: float) -> float | None:
    # NaN is not JSON: an undefined value (e.g. a drop normalised by a zero margin) becomes null.
    x = float(x)
    return round(x, 4) if np.isfinite(x) else None


def run_zoo(
    preset: str = "cpu",
    task: str = "trigger_distance",
    schemes: tuple[str, ...] = PE_SCHEMES,
    seed: int = 42,
    device: str = "cpu",
) -> list[dict]:
    """One row per scheme (see :func:`run_scheme`)."""
    if preset not in PE_PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PE_PRESETS)}, got {preset!r}")
    if task not in TASKS:
        raise ValueError(f"task: expected one of {sorted(TASKS)}, got {task!r}")
    cfg = {**PE_PRESETS[preset], "device": device}
    data = TASKS[task](n=cfg["n"], seq_len=cfg["seq_len"], seed=0)
    rows = []
    for pe in schemes:
        row, _ = run_scheme(pe, data, cfg, seed=seed)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the table as JSON."""
    ap = argparse.ArgumentParser(prog="python -m xattr_lab.diagnostics.pe_zoo", description=__doc__)
    ap.add_argument("--preset", default="cpu", choices=sorted(PE_PRESETS))
    ap.add_argument("--task", default="trigger_distance", choices=sorted(TASKS))
    ap.add_argument("--schemes", default=",".join(PE_SCHEMES), help="comma-separated schemes")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="torch device (the gpu preset wants cuda)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    schemes = tuple(s for s in args.schemes.split(",") if s)
    bad = [s for s in schemes if s not in PE_SCHEMES]
    if bad:
        ap.error(f"--schemes: unknown {bad}; choose from {PE_SCHEMES}")
    t0 = time.perf_counter()
    rows = run_zoo(args.preset, args.task, schemes, args.seed, device=args.device)
    out = {"preset": args.preset, "task": args.task, "seconds": round(time.perf_counter() - t0, 1), "rows": rows}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
