"""``xattr_lab.run``: explain a whole dataset with several methods, resumably, on one machine or on Ray.

The driver (this process) builds the work units, skips those already done (their row says ok and their
saved Explanation still loads), hands the rest to an executor and records each outcome as it arrives. It is
the only writer of the store; the table is compacted whenever it stops, Ctrl-C included.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xattr_lab.runs.config import DEFAULT_REGIONS, changes, fingerprint, split_params
from xattr_lab.runs.progress import ProgressArg, RunProgress
from xattr_lab.runs.store import RunStore
from xattr_lab.runs.work import SampleSpec, UnitOutcome, WorkUnit

if TYPE_CHECKING:
    from xattr_lab.runs.result import Run

COMPACT_EVERY = 300.0  # seconds between rewrites of results.parquet during a run (rows/ is always current)
_RESERVED = ("generation", "target", "progress", "image", "prompt", "method", "model")


def unit_seed(seed: int, sample_id: str) -> int:
    """The seed of a sample's units: from the run seed and the sample id only (not the worker, not the order).

    The method is left out on purpose: every method of a sample then gets the same regions, so differences
    between methods are paired.
    """
    digest = hashlib.sha256(f"{int(seed)}:{sample_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _methods(methods: Any) -> list[str]:
    from xattr_lab.attr.arguments import check_method_name

    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, Sequence) or not methods:
        raise TypeError(f"methods: expected a method name or a non-empty list of them, got {methods!r}")
    names = [check_method_name(m) for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"methods: listed twice: {sorted({m for m in names if names.count(m) > 1})}")
    return names


def _model_spec(model: Any) -> tuple[Any, Any]:
    """(what the executor loads or uses, what the config records)."""
    if isinstance(model, str):
        if not model.strip():
            raise ValueError("model: expected a registered name or a model directory, got an empty string")
        path = Path(model).expanduser()
        return (str(path.resolve()), str(path.resolve())) if path.is_dir() else (model, model)
    if isinstance(model, dict):
        if not isinstance(model.get("spec"), str):
            raise TypeError("model: a dict needs 'spec' (a model name or directory) and optional load options")
        return model, model
    if callable(getattr(model, "score", None)) and callable(getattr(model, "generate", None)):
        return model, {"object": str(getattr(model, "name", type(model).__name__))}
    raise TypeError(f"model: expected a model name, a directory, a dict or a ScoringModel, got {type(model).__name__}")


def _check_params(params: dict[str, Any], methods: list[str]) -> None:
    """Refuse before any work what would fail every unit: reserved names, parameters a method cannot take."""
    import inspect

    from xattr_lab.attr.arguments import check_seed
    from xattr_lab.attr.registry import get_method
    from xattr_lab.runs.work import EXPLAIN_KEYS, GENERATION_KEYS

    for key in params:
        if key == "method":
            raise ValueError("method: a run takes methods=[...] (a list of method names)")
        if key in _RESERVED:
            raise ValueError(f"{key}: a run sets it per sample; it cannot be a run parameter")
    check_seed(params.get("seed", 0))
    shared, per_method = split_params(params, methods)
    for method in methods:
        given = {**shared, **per_method.get(method, {})}
        own = set(given) - set(EXPLAIN_KEYS) - set(GENERATION_KEYS)
        sig = inspect.signature(get_method(method).fn).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.values()):
            continue  # the method checks its own keywords (EAGLE, LiMA): it raises per unit
        takes = list(sig)[1:]  # after ctx
        unknown = sorted(own - set(takes))
        if unknown:
            where = "it has no parameters" if not takes else f"it takes {', '.join(takes)}"
            raise ValueError(
                f"params: {unknown[0]!r} is not a parameter of method {method!r} ({where}); give a method's "
                f"parameters per method ({method}={{...}} in Python, [params.<method>] in a config)"
            )


def _branch_dir(path: Path, fp: str) -> Path:
    return path.parent / f"{path.name}-{fp[:8]}"


def _open_store(out_dir: Any, config: dict[str, Any], fp: str, branch: bool, counts: dict[str, int]) -> RunStore:
    from xattr_lab.cli_common import check_writable

    path = check_writable(out_dir, "out_dir", directory=True)
    store = RunStore(path)
    manifest = store.read_manifest()
    if manifest is not None and manifest.get("fingerprint") != fp:
        what = "; ".join(changes(manifest.get("config", {}), config)) or "the config"
        if not branch:
            raise ValueError(
                f"out_dir: {store.path} holds a run with a different config (changed: {what}); pass "
                "branch=True (--branch) to write into a new directory beside it, or choose another out_dir"
            )
        store = RunStore(_branch_dir(store.path, fp))
        print(f"xattr-lab run: config differs from {path} ({what}); branched into {store.path}", file=sys.stderr)
        manifest = store.read_manifest()
        if manifest is not None and manifest.get("fingerprint") != fp:  # pragma: no cover - a hash collision
            raise ValueError(f"out_dir: {store.path} holds yet another config; choose another out_dir")
    store.lock()
    if manifest is None:
        store.write_manifest({"fingerprint": fp, "config": config, "versions": _versions(), **counts,
                              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})  # fmt: skip
    return store


def _quick_check(path: Any) -> None:
    """A saved result's pointer parses and its arrays file has the declared size (no checksum, no decoding).

    Catches what a kill or a full disk leaves (no pointer, a missing or truncated arrays file), not a file
    edited in place; ``verify="full"`` catches that too.
    """
    from xattr_lab.results import _store

    doc = _store._read_pointer(Path(path))
    size = (Path(path) / doc["arrays_file"]).stat().st_size
    if size != doc["n_array_bytes"]:
        raise _store.ResultFileError(f"path: {path} has a truncated arrays file")


def _done_keys(store: RunStore, rows: dict[str, dict[str, Any]], fp: str, verify: str) -> set[str]:
    """Keys whose row says ok and whose Explanation still loads (a corrupt or partial file is redone)."""
    from xattr_lab.results.explanation import Explanation

    check = Explanation.load if verify == "full" else _quick_check
    done = set()
    for key, row in rows.items():
        if row.get("status") != "ok" or row.get("fingerprint") != fp:
            continue
        try:
            check(store.explanation_path(row))  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - any defect (missing, truncated, tampered) means: do it again
            continue
        done.add(key)
    return done


def build_units(
    samples: list[SampleSpec], methods: list[str], store: RunStore, shared: dict[str, Any],
    per_method: dict[str, dict[str, Any]], provenance: dict[str, Any],
) -> list[WorkUnit]:  # fmt: skip
    """Every sample x method unit of the run, in dataset order (sample, then method)."""
    seed = int(shared.get("seed", 0))
    units = []
    for index, sample in enumerate(samples):
        for method in methods:
            params = {**shared, **per_method.get(method, {}), "seed": unit_seed(seed, sample.sample_id)}
            units.append(WorkUnit(
                key=f"{sample.sample_id}/{method}", sample_id=sample.sample_id, method=method, sample=sample,
                params=params, result_dir=str(store.result_dir(sample.sample_id, method)),
                provenance={**provenance, "sample_index": index},
            ))  # fmt: skip
    return units


def run(
    model: Any,
    dataset: Any,
    methods: str | Sequence[str],
    out_dir: str | os.PathLike,
    regions: Any = DEFAULT_REGIONS,
    search: str | None = None,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    branch: bool = False,
    progress: ProgressArg = None,
    verify: str = "full",
    **params: Any,
) -> Run:
    """Explain every sample of ``dataset`` with every method; resumable; returns the :class:`Run`.

    Args:
        model: a registered model name (``"toy-shapes"``), a local model directory, a dict
            ``{"spec": ..., **load_model options}``, or (local executor only) a loaded ScoringModel.
        dataset: ``"shapes"`` / ``{"name": "shapes", "n": 200, "seed": 0, "task": ...}`` (also
            ``clutter``, ``shortcut``), a folder of images with ``prompts.jsonl`` / ``prompts.csv``, a
            ``datasets.Dataset`` or an iterable of dicts (see :mod:`xattr_lab.runs.sources`).
        methods: method names (``xattr_lab.list_methods()``).
        out_dir: the run directory. Running the same call again resumes it: done units are skipped, failed
            or cut-off ones redone.
        regions: the region spec for every sample (as in ``explain``).
        search: the search for search methods (as in ``explain``).
        executor: ``"local"`` (in-process, the default) or ``"ray"``.
        executor_options: the executor's options (ray: ``address``, ``num_workers``, ``num_cpus``,
            ``num_gpus``, ``max_retries``; local: ``batch_samples``).
        branch: when ``out_dir`` holds a run with another config, write into ``<out_dir>-<fingerprint>``
            beside it instead of refusing.
        progress: None shows progress where a person watches; True / False; or a callable taking counts.
        verify: how a resume checks the results of done units before skipping them: ``"full"`` loads each
            (checksum and content checks, ~10 ms each), ``"quick"`` checks only that its files are complete
            (for runs of many thousands of units); either way a failed check redoes the unit.
        **params: ``explain`` keywords for every method (``seed``, ``max_new_tokens``, ``tokens``,
            ``baseline``, ``batch_size``, method parameters); a keyword named after one of the methods with a
            dict value holds that method's own parameters (``eagle={"early_stop": True}``).

    Returns:
        The run, as :func:`xattr_lab.load_run` reads it.

    Raises:
        ValueError / TypeError: bad arguments (named), or ``out_dir`` holding another config (the message
            names what changed) without ``branch``.
        KeyboardInterrupt: Ctrl-C; what finished is kept, and the table is written first.
    """
    from xattr_lab.runs.executors import get_executor
    from xattr_lab.runs.result import Run
    from xattr_lab.runs.sources import load_samples

    names = _methods(methods)
    if regions is None or (isinstance(regions, str) and not regions.strip()):
        raise ValueError("regions: expected a region spec such as 'grid:4' or 'slico:64'")
    if not isinstance(regions, str):
        raise TypeError("regions: a run takes a region spec string (a label map differs per image)")
    if search is not None and not isinstance(search, str):
        raise TypeError(f"search: expected a search name or None, got {type(search).__name__}")
    if verify not in ("full", "quick"):
        raise ValueError(f"verify: expected 'full' or 'quick', got {verify!r}")
    if not isinstance(branch, bool):
        raise TypeError(f"branch: expected True or False, got {branch!r}")
    if executor_options is not None and not isinstance(executor_options, dict):
        raise TypeError(f"executor_options: expected a dict, got {type(executor_options).__name__}")
    _check_params(params, names)
    spec, model_record = _model_spec(model)
    ex = get_executor(executor, **(executor_options or {}))
    samples, described = load_samples(dataset)
    shared, per_method = split_params({"seed": 0, **params, "regions": regions, "search": search}, names)
    config = {"model": model_record, "dataset": described, "methods": names, "regions": regions,
              "search": search, "seed": shared["seed"], "params": params}  # fmt: skip
    fp = fingerprint(config)
    counts = {"n_samples": len(samples), "n_units": len(samples) * len(names)}
    store = _open_store(out_dir, config, fp, branch, counts)
    try:
        provenance = {"model": _model_name(model_record), "fingerprint": fp}
        units = build_units(samples, names, store, shared, per_method, provenance)
        rows, _ = store.read_rows()
        done = _done_keys(store, rows, fp, verify)
        todo = [u for u in units if u.key not in done]
        bar = RunProgress(len(units), len(units) - len(todo), store.path.name, progress)
        last_compact = [time.monotonic()]

        def on_outcome(outcome: UnitOutcome) -> None:
            store.append(outcome.row)
            bar.update(outcome.key, str(outcome.row.get("status")))
            if time.monotonic() - last_compact[0] > COMPACT_EVERY:  # keep the Parquet file fresh for readers
                store.compact()
                last_compact[0] = time.monotonic()

        try:
            ex.map(todo, spec, on_outcome)
        finally:
            bar.close()
            table = store.compact()  # the final table: load_run would read every row again to rebuild it
    finally:
        store.unlock()
    return Run(store.path, store.read_manifest() or {}, table)


def _versions() -> dict[str, str]:
    """Installed versions of what a run's numbers depend on (package metadata: nothing is imported)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("xattr-lab", "numpy", "torch", "transformers", "captum", "pyarrow", "ray"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _model_name(record: Any) -> str:
    if isinstance(record, dict):
        return str(record.get("spec", record.get("object", "")))
    return str(record)


__all__ = ["build_units", "run", "unit_seed"]
