"""A run's config: what determines its results, its fingerprint, what changed, and the TOML form.

The fingerprint covers the model, the dataset (its description, including a digest of its contents), the
methods, regions, search, seed and parameters; not the executor nor the output folder, so a run begun
locally can be resumed on Ray. The TOML file (``xattr-lab run CONFIG.toml``)::

    model = "toy-shapes"                 # a registered name or a local model directory
    methods = ["eagle", "feature_ablation", "random"]
    output = "runs/shapes"               # relative to the config file's folder
    regions = "grid:4"
    search = "efficient"
    seed = 0

    [dataset]                            # or: dataset = "shapes" / dataset = "path/to/folder"
    name = "shapes"
    n = 200

    [params]                             # explain() keywords for every method ...
    max_new_tokens = 8
    [params.eagle]                       # ... and per method
    early_stop = true

    [executor]                           # optional: name = "local" | "ray", and its options
    name = "local"
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

TOP_KEYS = ("model", "dataset", "methods", "output", "regions", "search", "seed", "params", "executor")
DEFAULT_REGIONS = "slico:64"  # explain()'s default, EAGLE's


def fingerprint(config: dict[str, Any]) -> str:
    """A sha256 of the config's canonical JSON."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """What differs between two configs, one ``"key: old -> new"`` per change (nested keys dotted)."""
    out = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out += changes(a, b, name + ".")
        elif a != b:
            out.append(f"{name}: {_short(a)} -> {_short(b)}")
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:28] + "..." + text[-28:]


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a run config file (``tomllib``; ``tomli`` on Python 3.10).

    Raises:
        ValueError: the file is not valid TOML, or holds unknown top-level keys.
        OSError: the file cannot be read.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    file = Path(path)
    with open(file, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"config: {file} is not valid TOML: {err}") from None
    unknown = set(data) - set(TOP_KEYS)
    if unknown:
        raise ValueError(f"config: unknown keys {sorted(unknown)} in {file}; expected {', '.join(TOP_KEYS)}")
    for key in ("model", "dataset", "methods", "output"):
        if key not in data:
            raise ValueError(f"config: {file} needs {key!r}")
    return data


def resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Paths in a config file are relative to its folder: the output, a dataset folder, a model folder."""
    data = dict(data)
    data["output"] = str(_under(base, data["output"], "output"))
    dataset = data["dataset"]
    if isinstance(dataset, str) and (base / dataset).is_dir():
        data["dataset"] = str(base / dataset)
    elif isinstance(dataset, dict) and "path" in dataset:
        data["dataset"] = {**dataset, "path": str(_under(base, dataset["path"], "dataset.path"))}
    model = data["model"]
    if isinstance(model, str) and (base / model).is_dir():
        data["model"] = str((base / model).resolve())
    return data


def _under(base: Path, value: Any, key: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"config: {key} must be a path (a non-empty string), got {value!r}")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def split_params(params: dict[str, Any], methods: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Global explain parameters, and per-method ones (a parameter named after a method with a dict value)."""
    shared, per_method = {}, {}
    for key, value in params.items():
        if key in methods and isinstance(value, dict):
            per_method[key] = dict(value)
        else:
            shared[key] = value
    return shared, per_method


__all__ = ["DEFAULT_REGIONS", "changes", "fingerprint", "read_toml", "resolve_paths", "split_params"]
