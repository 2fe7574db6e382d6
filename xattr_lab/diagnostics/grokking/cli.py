"""``xattr-lab grok``: train a grokking run in the terminal with a progress bar and print a summary.

Ctrl-C stops training: the run so far is summarised (``"partial": true`` in the JSON), saved when
``--save`` was given, and the command exits 130. Bad options exit 2 with one line naming them.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from xattr_lab.diagnostics.grokking.presets import PRESETS, preset


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="xattr-lab grok", description="Grokking on modular arithmetic.")
    ap.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="named configuration")
    ap.add_argument("--steps", type=int, help="maximum optimiser steps")
    ap.add_argument("--p", type=int, help="prime modulus")
    ap.add_argument("--op", choices=["add", "sub", "div", "quad"], help="operation")
    ap.add_argument("--frac", type=float, help="training fraction")
    ap.add_argument("--lr", type=float, help="learning rate")
    ap.add_argument("--weight-decay", type=float, help="AdamW weight decay")
    ap.add_argument("--grokfast", type=float, help="Grokfast amplification λ (0 disables)")
    ap.add_argument("--eval-every", type=int, help="steps between evaluations")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--device", help="torch device (cpu, cuda)")
    ap.add_argument("--seed", type=int, help="random seed")
    ap.add_argument("--save", help="directory to save the TrainingRun to")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return ap


def summarise(run) -> dict:
    """The headline numbers of a grokking run.

    When memorisation and generalisation happened, and how the progress measures had moved while test
    accuracy was still low.
    """
    ev = run.events
    out = {
        "train_acc_99_step": ev.get("train_acc_99"),
        "train_acc_100_step": ev.get("train_acc_100"),
        "test_acc_99_step": ev.get("test_acc_99"),
        "delay_steps": (
            ev["test_acc_99"] - ev["train_acc_99"]
            if ev.get("test_acc_99") is not None and ev.get("train_acc_99") is not None
            else None
        ),
        "delay_after_train_100_steps": (
            ev["test_acc_99"] - ev["train_acc_100"]
            if ev.get("test_acc_99") is not None and ev.get("train_acc_100") is not None
            else None
        ),
        "final_test_acc": run.final("test_acc"),
        "final_train_acc": run.final("train_acc"),
        "steps_run": run.info.get("steps_run"),
        "wall_time_s": round(float(run.info.get("wall_time_s", float("nan"))), 1),
        "threads": run.info.get("threads"),
        "device": run.info.get("device"),
        "load_avg_1min_at_end": run.info.get("load_avg_1min"),
        "key_freqs": run.info.get("key_freqs"),
    }
    # Progress measures before the jump: from the test-loss peak (memorisation at its worst) to the last
    # evaluation where test accuracy was still below 10 %, the measures move while accuracy does not.
    start = ev.get("test_loss_peak")
    acc = run.series["test_acc"]
    if start is not None:
        i0 = int((run.steps == start).nonzero()[0][0])
        low = (acc < 0.1) & (np.arange(len(acc)) > i0)
        if low.any():
            i1 = int(low.nonzero()[0][-1])
            moved = {}
            for name in (
                "test_acc",
                "test_loss",
                "weight_norm",
                "med",
                "excluded_loss",
                "restricted_loss",
                "fourier_gini",
            ):
                if name in run.series:
                    moved[name] = [round(float(run.series[name][i0]), 4), round(float(run.series[name][i1]), 4)]
            out["measures_while_test_acc_below_10pct"] = {
                "from_step": int(run.steps[i0]),
                "to_step": int(run.steps[i1]),
                "values": moved,
            }
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``xattr-lab grok``; returns the exit status (0, 1 demo did not grok, 2, 130)."""
    from xattr_lab.cli_common import EXIT_INTERRUPTED, check_writable, dumps

    parser = _parser()
    args = parser.parse_args(argv)
    if args.save is not None:
        check_writable(args.save, "--save", directory=True)
    if args.device and args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            parser.error(f"--device: {args.device!r} asked for, but torch sees no CUDA device")
    overrides = {
        key: value
        for key, value in {
            "steps": args.steps,
            "p": args.p,
            "op": args.op,
            "frac": args.frac,
            "lr": args.lr,
            "weight_decay": args.weight_decay,
            "grokfast_lambda": args.grokfast,
            "eval_every": args.eval_every,
            "threads": args.threads,
            "device": args.device,
            "seed": args.seed,
        }.items()
        if value is not None
    }
    from xattr_lab.diagnostics.grokking.trainer import GrokTrainer

    config = preset(args.preset, **overrides)
    trainer = GrokTrainer(**config, progress=not args.no_progress)
    print(f"xattr-lab grok --preset {args.preset}: {json.dumps(config)}", file=sys.stderr, flush=True)
    trainer.fit()  # Ctrl-C during training ends it with the run so far (trainer.interrupted_)
    run, interrupted = trainer.run_, trainer.interrupted_
    if interrupted and not len(run):
        raise KeyboardInterrupt  # stopped before the first evaluation: nothing to summarise
    summary = {"preset": args.preset, "partial": bool(interrupted), **summarise(run)}
    if args.save:
        run.save(args.save)
        summary["saved_to"] = args.save
    if args.json:
        print(dumps(summary, indent=1))
    else:
        print(f"preset {args.preset}: {run!r}")
        print(f"  train accuracy reached 99% at step {summary['train_acc_99_step']}", end="")
        print(f", 100% at step {summary['train_acc_100_step']}")
        t99, delay = summary["test_acc_99_step"], summary["delay_steps"]
        print(f"  test accuracy reached 99% at step {t99}: {delay} steps after train accuracy reached 99%, ", end="")
        print(f"{summary['delay_after_train_100_steps']} after 100%")
        print(f"  final test accuracy {summary['final_test_acc']:.4f}")
        where = f"{summary['threads']} thread(s), device {summary['device']}"
        print(f"  wall time {summary['wall_time_s']} s on {where}")
        moved = summary.get("measures_while_test_acc_below_10pct")
        if moved:
            span = f"steps {moved['from_step']}→{moved['to_step']}"
            print(f"  from the test-loss peak to the last evaluation with test accuracy < 10% ({span}):")
            for name, (a, b) in moved["values"].items():
                print(f"    {name:<16} {a:>10.4g} → {b:<10.4g}")
    if interrupted:
        print("xattr-lab grok: interrupted; the summary above is of the partial run", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0 if summary["test_acc_99_step"] is not None or args.preset not in ("demo",) else 1
