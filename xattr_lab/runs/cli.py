"""``xattr-lab run CONFIG.toml``: a dataset run from a config file (see :mod:`xattr_lab.runs.config`).

Running the same command again resumes the run. Exit status: 0 when every unit is done, 1 when some
failed (their errors are in the table), 2 for a user error (bad config, changed config without
``--branch``), 130 on Ctrl-C (what finished is kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_FAILED_UNITS = 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xattr-lab run", description="Explain a dataset with several methods.")
    p.add_argument("config", help="the run's TOML config (model, dataset, methods, params, output)")
    p.add_argument("--executor", choices=("local", "ray"), default=None, help="where units run (default: local)")
    p.add_argument("--address", default=None, help="Ray: an existing cluster's address (default: start one)")
    p.add_argument("--num-workers", type=int, default=None, help="Ray: model replicas (actors)")
    p.add_argument("--branch", action="store_true", help="a changed config writes beside the output, not refused")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verify", choices=("full", "quick"), default="full",
                   help="on resume, load every done result (full) or only check its files are complete (quick)")
    return p


class _UsageError(ValueError):
    pass


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = _parser()

    def error(message: str) -> None:  # argparse would exit itself; let run_main print and give 2
        raise _UsageError(message)

    parser.error = error  # type: ignore[method-assign]
    return parser.parse_args(argv)


def options_from(data: dict[str, Any], args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The executor name and options: the config's ``[executor]`` table, overridden by the flags."""
    table = data.get("executor") or {}
    if isinstance(table, str):
        table = {"name": table}
    if not isinstance(table, dict):
        raise ValueError("config: executor must be a name or a table with name and options")
    options = {k: v for k, v in table.items() if k != "name"}
    name = args.executor or table.get("name", "local")
    if args.address is not None:
        options["address"] = args.address
    if args.num_workers is not None:
        if args.num_workers < 1:
            raise ValueError(f"--num-workers: expected a positive count, got {args.num_workers}")
        options["num_workers"] = args.num_workers
    if name == "local" and ({"address", "num_workers"} & set(options)):
        raise ValueError("--address / --num-workers: these are Ray options; add --executor ray")
    return name, options


def main(argv: list[str]) -> int:
    """Run ``xattr-lab run``; returns the exit status."""
    from xattr_lab.runs.api import run
    from xattr_lab.runs.config import read_toml, resolve_paths

    args = _parse(argv)
    path = Path(args.config)
    if not path.is_file():
        raise ValueError(f"config: {args.config} is not a file")
    data = resolve_paths(read_toml(path), path.resolve().parent)
    name, options = options_from(data, args)
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("config: params must be a table")
    extra = {k: data[k] for k in ("regions", "search") if k in data}
    if "seed" in data:
        params = {**params, "seed": data["seed"]}
    result = run(data["model"], data["dataset"], data["methods"], data["output"], executor=name,
                 executor_options=options or None, branch=args.branch,
                 progress=False if args.no_progress else None, verify=args.verify, **extra, **params)  # fmt: skip
    counts = result.counts()
    print(f"{result.path}: {counts['ok']}/{counts['total']} done, {counts['error']} failed, "
          f"{counts['missing']} missing; table {result.path / 'results.parquet'}")  # fmt: skip
    for row in result.failed()[:5]:
        print(f"  failed {row['key']}: {str(row.get('error') or '').splitlines()[0]}", file=sys.stderr)
    return EXIT_FAILED_UNITS if counts["error"] else 0


__all__ = ["main"]
