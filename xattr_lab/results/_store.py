"""Saving results as JSON + safetensors: a versioned schema, a checksum, never pickle.

A saved result is a directory holding ``result.json`` (schema name, version, kind, metadata, the name and
size of its arrays file, a checksum) and that arrays file (``arrays-<tag>.safetensors``). Saving is atomic:
the new arrays file is written beside the old one and one rename of ``result.json`` commits it (see
:mod:`xattr_lab.results._atomic`), so a crash or kill at any moment leaves the old or the new result, never
neither. Loading trusts nothing it has not checked: it compares file sizes with the declared ones *before*
reading (``result.json`` is capped at :data:`MAX_POINTER_BYTES`), verifies the checksum, and each result
type then checks the arrays' semantics (shapes, label numbering, permutations), since anyone can recompute
a checksum. Every defect is a :class:`ResultFileError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xattr_lab.results import _atomic
from xattr_lab.results._atomic import POINTER

SCHEMA = "xattr-lab-result"
SCHEMA_VERSION = 2  # 2: arrays file named in result.json, atomic save; 1: fixed arrays.safetensors
READABLE_VERSIONS = (1, 2)
MAX_POINTER_BYTES = 64 * 2**20  # result.json holds metadata only; real ones are kilobytes
_SHA_LEN = 64


class ResultFileError(ValueError):
    """A saved result is missing, truncated, tampered with, inconsistent or of an unknown schema."""


def _digest(meta_text: str, array_bytes: bytes) -> str:
    h = hashlib.sha256()
    h.update(meta_text.encode("utf-8"))
    h.update(array_bytes)
    return h.hexdigest()


def _target(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    if not str(os.fspath(path)).strip():
        # Path("") is the working directory: never save into (or load from) it by accident.
        raise ValueError("path: empty; give the directory to save the result in")
    return Path(path).expanduser()


# -- save ----------------------------------------------------------------------------------------------------
def save_result(path: str | os.PathLike, kind: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write a result atomically.

    Args:
        path: target directory. Created if missing; an existing one must be empty or hold a saved result
            (which is replaced); a directory holding anything else is refused.
        kind: the result type name, e.g. ``"Explanation"``.
        meta: JSON-serialisable metadata.
        arrays: named numpy arrays (any numeric dtype safetensors supports).

    Returns:
        The directory written.

    Raises:
        ValueError: for an empty path, a path that is a file, or a directory holding other things.
        TypeError: for a wrong argument type or metadata that is not JSON-serialisable.
        OSError: when writing fails (disk full, permissions); nothing of the new save is left behind and
            the previous result is untouched.
    """
    from safetensors.numpy import save as st_save

    target = _target(path)
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind: expected a non-empty string, got {kind!r}")
    # Serialise everything before touching the disk: a bad input must not leave a directory behind.
    try:
        meta_text = json.dumps(meta, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"meta: not JSON-serialisable: {err}") from None
    array_bytes = st_save({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else b""
    created = _prepare_dir(target)
    with _atomic.new_tag() as tag:
        _atomic.sweep(target, lambda: _pointed_name(target))  # dead writers' leftovers: free space first
        arrays_file, tmp = _atomic.arrays_name(tag), _atomic.tmp_pointer_name(tag)
        doc = {
            "schema": SCHEMA,
            "kind": kind,
            "version": SCHEMA_VERSION,
            "meta": meta_text,
            "sha256": _digest(meta_text, array_bytes),
            "arrays_file": arrays_file,
            "n_array_bytes": len(array_bytes),
        }
        committed = False
        try:
            _atomic.write_file(target / arrays_file, array_bytes)
            _atomic.write_file(target / tmp, json.dumps(doc, indent=1).encode("utf-8"))
            replaced = _pointed_name(target, default=None)
            os.replace(target / tmp, target / POINTER)  # the commit: the only step readers can see
            committed = True
            _atomic.fsync_dir(target)
        except BaseException:
            if not committed:
                for name in (arrays_file, tmp):
                    _unlink(target / name)
                if created:
                    _rmdir_if_empty(target)
            raise
        # The arrays file the old pointer named is garbage now (its writer may live on, e.g. another
        # notebook, so the sweep's liveness rule would keep it).
        if replaced and replaced != arrays_file and _pointed_name(target, default=replaced) != replaced:
            _unlink(target / replaced)
    _atomic.sweep(target, lambda: _pointed_name(target))  # our tag is finished: superseded files go too
    return target


def sweep_stale(path: str | os.PathLike) -> list[str]:
    """Delete leftovers of interrupted saves in a result directory (saving does this by itself).

    Returns:
        The names of the files deleted.
    """
    target = _target(path)
    return _atomic.sweep(target, lambda: _pointed_name(target)) if target.is_dir() else []


def _prepare_dir(target: Path) -> bool:
    """Check (or create) the directory to save in; True when this call created it."""
    try:
        st = target.stat()
    except FileNotFoundError:
        target.mkdir(parents=True, exist_ok=True)
        _atomic.fsync_dir(target.parent)
        return True
    except NotADirectoryError:
        raise ValueError(f"path: {target} lies below a file, not a directory") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ValueError(f"path: {target} exists and is not a directory; refusing to overwrite it")
    foreign = sorted(
        e.name for e in os.scandir(target) if not (_atomic.is_own_entry(e.name) and e.is_file(follow_symlinks=False))
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ValueError(
            f"path: {target} holds other things ({shown}), not a saved result; refusing to save into it "
            "(choose a new or empty directory)"
        )
    if (target / POINTER).exists():
        try:
            _read_pointer(target)
        except ResultFileError as err:
            raise ValueError(f"path: {target} holds a result.json that is not a readable result ({err}); "
                             "refusing to replace it") from None  # fmt: skip
    return False


def _pointed_name(target: Path, default: Any = ...) -> str | None:
    """The arrays file the pointer names now; None without a pointer. Unreadable: ``default`` or raise."""
    if not (target / POINTER).exists():
        return None
    try:
        return _read_pointer(target)["arrays_file"]
    except ResultFileError:
        if default is ...:
            raise
        return default


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


# -- load ----------------------------------------------------------------------------------------------------
def load_result(
    path: str | os.PathLike, kind: str | None = None, *, accept: Callable[[str], None] | None = None
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Read a result written by :func:`save_result` and verify it (``result.json`` is parsed once).

    Args:
        path: the directory written by ``save_result``.
        kind: the expected result type, or None to accept any.
        accept: called with the stored kind as soon as ``result.json`` is parsed, before the arrays are
            read; it raises ``ResultFileError`` to refuse the kind (``xattr_lab.load`` dispatches with it,
            so it needs no second parse of the pointer to learn the kind).

    Returns:
        ``(kind, meta, arrays)``.

    Raises:
        ResultFileError: when the files are missing, oversized, truncated, tampered with or of another
            schema or kind.
    """
    try:
        target = _target(path)
    except (TypeError, ValueError) as err:
        raise ResultFileError(str(err)) from None
    for attempt in range(3):
        doc = _read_pointer(target)
        if kind is not None and doc["kind"] != kind:
            raise ResultFileError(f"path: {target} holds a {doc['kind']!r}, expected a {kind!r}")
        if accept is not None:
            accept(doc["kind"])
        try:
            array_bytes = _read_arrays(target, doc)
            break
        except FileNotFoundError:
            # A concurrent save may have committed and deleted the file the pointer we read named.
            if attempt == 2 or _pointed_name(target, default=None) == doc["arrays_file"]:
                raise ResultFileError(
                    f"path: {target} is incomplete: result.json names {doc['arrays_file']}, which is missing"
                ) from None
    meta_text = doc["meta"]
    try:
        digest = _digest(meta_text, array_bytes)
    except UnicodeEncodeError:
        raise ResultFileError(f"path: {target}/{POINTER} holds metadata that is not valid text") from None
    if digest != doc["sha256"]:
        raise ResultFileError(f"path: {target} failed its checksum: the files were changed after saving")
    meta = _parse_json(meta_text, f"{target}/{POINTER} (its meta entry)")
    if not isinstance(meta, dict):
        raise ResultFileError(f"path: {target}/{POINTER} has a meta entry that is not a JSON object")
    return doc["kind"], meta, _parse_arrays(array_bytes, target / doc["arrays_file"])


def _open_regular(file: Path) -> int:
    """Open for reading without blocking (a FIFO would block ``open``) and insist on a regular file."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ResultFileError(f"path: {file} is not a regular file")
    return fd


def _read_pointer(target: Path) -> dict[str, Any]:
    """``result.json``, size-capped, parsed and with every field's type checked."""
    file = target / POINTER
    try:
        fd = _open_regular(file)
    except (FileNotFoundError, NotADirectoryError):
        if target.is_dir() and _atomic.has_leftovers(target):
            raise ResultFileError(
                f"path: {target} holds only an interrupted save (no {POINTER}); save again to replace it"
            ) from None
        raise ResultFileError(f"path: {target} is not a saved xattr_lab result (no {POINTER})") from None
    except OSError as err:
        raise ResultFileError(f"path: cannot read {file}: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_POINTER_BYTES:
            raise ResultFileError(
                f"path: {file} is {size} bytes; a result.json is at most {MAX_POINTER_BYTES} (not a result file?)"
            )
        data = fh.read(MAX_POINTER_BYTES + 1)  # bounded even if the file grows meanwhile
    if len(data) > MAX_POINTER_BYTES:
        raise ResultFileError(f"path: {file} grew past {MAX_POINTER_BYTES} bytes while being read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultFileError(f"path: {file} is not UTF-8 text (truncated or edited?)") from None
    doc = _parse_json(text, str(file))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ResultFileError(f"path: {file} is not an xattr_lab result file")
    version = doc.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ResultFileError(
            f"path: {target} has schema version {version!r}; this xattr_lab reads versions {READABLE_VERSIONS}"
        )
    if version == 1:
        doc["arrays_file"] = _atomic.LEGACY_ARRAYS
    _check_field(doc, "kind", str, file)
    _check_field(doc, "meta", str, file)
    _check_field(doc, "sha256", str, file)
    _check_field(doc, "arrays_file", str, file)
    n = doc.get("n_array_bytes")
    if type(n) is not int or n < 0:
        raise ResultFileError(f"path: {file} has an invalid n_array_bytes {n!r} (expected a size in bytes)")
    if not doc["kind"]:
        raise ResultFileError(f"path: {file} has an empty kind")
    if len(doc["sha256"]) != _SHA_LEN:
        raise ResultFileError(f"path: {file} has a malformed sha256")
    if not _atomic.is_arrays_name(doc["arrays_file"]):  # also keeps the name inside the directory
        raise ResultFileError(f"path: {file} names an invalid arrays file {doc['arrays_file']!r}")
    return doc


def _check_field(doc: dict[str, Any], name: str, typ: type, file: Path) -> None:
    if not isinstance(doc.get(name), typ):
        raise ResultFileError(
            f"path: {file} has an invalid {name!r} entry (expected a {typ.__name__}, got "
            f"{type(doc.get(name)).__name__})"
        )


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError; deep nesting recurses
        raise ResultFileError(f"path: {where} is not valid JSON (truncated or edited?): {err}") from None


def _read_arrays(target: Path, doc: dict[str, Any]) -> bytes:
    """The arrays file's bytes, its size checked against the declared one before a byte is read."""
    file = target / doc["arrays_file"]
    expected = doc["n_array_bytes"]
    try:
        fd = _open_regular(file)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise ResultFileError(f"path: cannot read {file}: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size != expected:
            raise ResultFileError(
                f"path: {file} has {size} bytes but result.json declares {expected} (truncated or edited?)"
            )
        data = fh.read(expected)
        if len(data) != expected or fh.read(1):
            raise ResultFileError(f"path: {file} changed size while being read (truncated?)")
    return data


def _parse_arrays(data: bytes, file: Path) -> dict[str, np.ndarray]:
    if not data:
        return {}
    from safetensors.numpy import load as st_load

    try:
        arrays = st_load(data)
    except Exception as err:  # safetensors raises its own error types for every malformed header
        raise ResultFileError(f"path: {file} is not a valid safetensors file: {err}") from None
    return dict(arrays)
