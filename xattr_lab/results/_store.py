"""Saving results as JSON + safetensors: a versioned schema, a checksum, never pickle.

A saved result is a directory (or a ``.xattr`` path treated as one) holding ``result.json`` (schema name,
version, metadata, array index, checksum) and ``arrays.safetensors``. Loading checks the schema, the
version and the checksum before building anything, so a truncated or tampered file fails with a clear
error instead of a wrong result.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
_META = "result.json"
_ARRAYS = "arrays.safetensors"


class ResultFileError(ValueError):
    """A saved result is missing, truncated, tampered with or of an unknown schema."""


def _digest(meta_text: str, array_bytes: bytes) -> str:
    h = hashlib.sha256()
    h.update(meta_text.encode("utf-8"))
    h.update(array_bytes)
    return h.hexdigest()


def save_result(path: str | os.PathLike, kind: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write a result atomically.

    Args:
        path: target directory (created; replaced if it exists and holds a saved result).
        kind: the result type name, e.g. ``"Explanation"``.
        meta: JSON-serialisable metadata.
        arrays: named numpy arrays (any numeric dtype safetensors supports).

    Returns:
        The directory written.
    """
    from safetensors.numpy import save as st_save

    target = Path(path)
    array_bytes = st_save({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else b""
    meta_text = json.dumps(meta, sort_keys=True, allow_nan=True)
    doc = {
        "schema": "xattr-lab-result",
        "kind": kind,
        "version": SCHEMA_VERSION,
        "meta": meta_text,
        "sha256": _digest(meta_text, array_bytes),
        "n_array_bytes": len(array_bytes),
    }
    target.mkdir(parents=True, exist_ok=True)
    # Write to temporary files then rename, so an interrupted save never leaves a half file in place.
    for name, data in ((_ARRAYS, array_bytes), (_META, json.dumps(doc, indent=1).encode("utf-8"))):
        fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target / name)
    return target


def load_result(path: str | os.PathLike, kind: str | None = None) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Read a result written by :func:`save_result` and verify it.

    Args:
        path: the directory written by ``save_result``.
        kind: the expected result type, or None to accept any.

    Returns:
        ``(kind, meta, arrays)``.

    Raises:
        ResultFileError: when the files are missing, truncated, tampered with or of another schema.
    """
    target = Path(path)
    meta_file, array_file = target / _META, target / _ARRAYS
    if not meta_file.is_file() or not array_file.is_file():
        raise ResultFileError(f"path: {target} is not a saved xattr_lab result (expected {_META} and {_ARRAYS})")
    try:
        doc = json.loads(meta_file.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultFileError(f"path: {meta_file} is not valid JSON (truncated or edited?): {err}") from None
    if not isinstance(doc, dict) or doc.get("schema") != "xattr-lab-result":
        raise ResultFileError(f"path: {meta_file} is not an xattr_lab result file")
    if doc.get("version") != SCHEMA_VERSION:
        raise ResultFileError(
            f"path: {target} has schema version {doc.get('version')!r}; this xattr_lab reads version {SCHEMA_VERSION}"
        )
    if kind is not None and doc.get("kind") != kind:
        raise ResultFileError(f"path: {target} holds a {doc.get('kind')!r}, expected a {kind!r}")
    array_bytes = array_file.read_bytes()
    if len(array_bytes) != doc.get("n_array_bytes"):
        raise ResultFileError(
            f"path: {array_file} has {len(array_bytes)} bytes, expected {doc.get('n_array_bytes')} (truncated?)"
        )
    meta_text = doc.get("meta", "")
    if _digest(meta_text, array_bytes) != doc.get("sha256"):
        raise ResultFileError(f"path: {target} failed its checksum: the files were changed after saving")
    from safetensors.numpy import load as st_load

    arrays = st_load(array_bytes) if array_bytes else {}
    return doc["kind"], json.loads(meta_text), arrays


def read_kind(path: str | os.PathLike) -> str:
    """The result type stored at ``path`` (for dispatch in ``xattr_lab.load``)."""
    meta_file = Path(path) / _META
    if not meta_file.is_file():
        raise ResultFileError(f"path: {path} is not a saved xattr_lab result (no {_META})")
    try:
        return str(json.loads(meta_file.read_text("utf-8"))["kind"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ResultFileError(f"path: {meta_file} is not a valid result file: {err}") from None
