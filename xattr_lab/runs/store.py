"""The on-disk store of a run: a manifest, one row file per unit, one Parquet table, the Explanations.

Layout of ``out_dir``::

    manifest.json          config, its fingerprint, versions (written once, atomically)
    rows/<hash>.json       one row per sample x method, replaced atomically (tmp + fsync + os.replace)
    results.parquet        the results table, compacted from rows/ (tmp + os.replace)
    explanations/<sample>/<method>/   each Explanation, saved with Explanation.save (atomic itself)
    .lock                  held (flock) by the one driver writing here

Why a file per row: the row's name is a hash of its key (``sample_id/method``), so writing a row again (a
redo after an error or a cut-off) replaces it and a key can never appear twice; a kill at any moment leaves
either the old row, the new one, or a temporary file that the next open sweeps. The table is derived data:
it is rebuilt from rows/ whenever the driver stops (also on Ctrl-C), and on load when it is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from xattr_lab.results._atomic import fsync_dir, write_file

MANIFEST = "manifest.json"
TABLE = "results.parquet"
ROWS = "rows"
EXPLANATIONS = "explanations"
LOCK = ".lock"
FORMAT = "xattr-lab-run"
FORMAT_VERSION = 1
# columns first in the table, in this order; the rest (further metrics) follow sorted by name
LEADING = (
    "key", "sample_index", "sample_id", "method", "task", "status", "error", "prompt", "answer", "target",
    "generated", "correct", "insertion_auc", "deletion_auc", "pointing_mask", "pointing_box", "n_forward",
    "n_calls", "seconds", "model", "regions", "search", "seed", "versions", "fingerprint", "result_path",
)  # fmt: skip
# columns that legitimately differ between two runs of the same config (timing, machine)
NONDETERMINISTIC = ("seconds", "versions")
_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,79}$")
_TMP_ROW = re.compile(r"^\.tmp-.*\.json$")


def safe_name(text: str) -> str:
    """A file-name-safe, collision-free form of ``text`` (itself when already safe)."""
    if _SAFE.match(text) and text not in (".", ".."):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:60] or "id") + "-" + digest


def row_file_name(key: str) -> str:
    """The row file of a key: a hash, so any key maps to one file name."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24] + ".json"


def _dump(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, indent=1, allow_nan=True, default=str).encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and one ``os.replace``."""
    tmp = path.parent / f".tmp-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}"
    write_file(tmp, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class RunStore:
    """Reads and writes one run directory. The driver holds the lock while it writes (:meth:`lock`).

    Args:
        out_dir: the run directory (created when missing).
    """

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.path = Path(out_dir).expanduser().resolve()
        self._lock_fd: int | None = None

    # -- locking ---------------------------------------------------------------------------------------------
    def lock(self) -> None:
        """Take the directory's lock; refuse when another driver holds it. Sweeps temporary row files."""
        (self.path / ROWS).mkdir(parents=True, exist_ok=True)
        (self.path / EXPLANATIONS).mkdir(exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no flock on this platform: one driver per directory is then the user's care
            pass
        except OSError:
            os.close(fd)
            raise ValueError(f"out_dir: another run is writing to {self.path} right now") from None
        self._lock_fd = fd
        for entry in os.scandir(self.path / ROWS):  # a writer killed mid-row left these; we hold the lock
            if _TMP_ROW.match(entry.name):
                Path(entry.path).unlink(missing_ok=True)
        for entry in os.scandir(self.path):
            if _TMP_ROW.match(entry.name) or entry.name.startswith(".tmp-") and entry.name.endswith(".parquet"):
                Path(entry.path).unlink(missing_ok=True)

    def unlock(self) -> None:
        """Release the lock (closing the descriptor releases the flock)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- manifest --------------------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the directory has none yet."""
        path = self.path / MANIFEST
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"out_dir: {path} is not a readable run manifest: {err}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"out_dir: {path} is not an xattr-lab run manifest")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / MANIFEST, _dump({"format": FORMAT, "format_version": FORMAT_VERSION, **manifest}))
        fsync_dir(self.path)

    # -- rows ------------------------------------------------------------------------------------------------
    def result_dir(self, sample_id: str, method: str) -> Path:
        """Where the Explanation of ``sample_id`` x ``method`` is saved."""
        return self.path / EXPLANATIONS / safe_name(sample_id) / safe_name(method)

    def append(self, row: dict[str, Any]) -> None:
        """Record a unit's row (replacing an earlier row of the same key), atomically."""
        row = dict(row)
        if row.get("result_path"):
            try:  # relative to the run, so a moved or copied run directory still finds its results
                row["result_path"] = os.path.relpath(row["result_path"], self.path)
            except ValueError:  # another drive (Windows): keep it absolute
                pass
        write_atomic(self.path / ROWS / row_file_name(str(row["key"])), _dump(row))

    def read_rows(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """All rows by key, and the names of row files that could not be read (they count as not done)."""
        rows: dict[str, dict[str, Any]] = {}
        bad: list[str] = []
        folder = self.path / ROWS
        if not folder.is_dir():
            return rows, bad
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.name.endswith(".json") or entry.name.startswith("."):
                continue
            try:
                row = json.loads(Path(entry.path).read_text(encoding="utf-8"))
                key = row["key"]
            except (OSError, ValueError, KeyError, TypeError):
                bad.append(entry.name)
                continue
            if entry.name != row_file_name(str(key)):
                bad.append(entry.name)  # a row under a name that is not its key's: not ours, not trusted
                continue
            rows[str(key)] = row
        return rows, bad

    def explanation_path(self, row: dict[str, Any]) -> Path | None:
        """The absolute result directory a row points at (None for a failed unit)."""
        rel = row.get("result_path")
        if not rel:
            return None
        path = Path(rel)
        return path if path.is_absolute() else self.path / path

    # -- table -----------------------------------------------------------------------------------------------
    def compact(self) -> Any:
        """Rebuild ``results.parquet`` from the row files (tmp + os.replace), one row per key.

        Returns:
            The table, as :meth:`read_table` would read it now (so a caller need not read the rows again).
        """
        rows, _ = self.read_rows()
        manifest = self.read_manifest() or {}
        table = rows_to_table(list(rows.values()), _methods(manifest))
        meta = {b"xattr_lab_run": json.dumps({"fingerprint": manifest.get("fingerprint")}).encode()}
        import pyarrow.parquet as pq

        tmp = self.path / f".tmp-{os.getpid()}-{secrets.token_hex(4)}.parquet"
        try:
            pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **meta}), tmp)
            os.replace(tmp, self.path / TABLE)
        finally:
            tmp.unlink(missing_ok=True)
        return table

    def read_table(self) -> Any:
        """The results table: rebuilt from the row files when they exist, else read from the Parquet file."""
        if (self.path / ROWS).is_dir():
            rows, _ = self.read_rows()
            return rows_to_table(list(rows.values()), _methods(self.read_manifest() or {}))
        import pyarrow.parquet as pq

        return pq.read_table(self.path / TABLE)


def rows_to_table(rows: list[dict[str, Any]], methods: list[str] | None = None) -> Any:
    """A pyarrow Table of ``rows``: fixed leading columns, further metrics sorted, rows in dataset order.

    Rows are sorted by sample (dataset order), then method (``methods`` order, else by name), so a run
    resumed after a kill and an uninterrupted run give the same table.
    """
    import pyarrow as pa

    rank = {m: i for i, m in enumerate(methods or [])}

    def order(r: dict[str, Any]) -> tuple[int, str, int, str]:
        method = str(r.get("method"))
        return _index(r.get("sample_index")), str(r.get("sample_id")), rank.get(method, len(rank)), method

    rows = sorted(rows, key=order)
    names = set().union(*(r.keys() for r in rows)) if rows else set(LEADING)
    columns = [c for c in LEADING if c in names or not rows] + sorted(names - set(LEADING))
    arrays = {}
    for col in columns:
        values = [r.get(col) for r in rows]
        if col not in LEADING or col in ("insertion_auc", "deletion_auc", "pointing_mask", "pointing_box"):
            if all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                values = [float("nan") if v is None else float(v) for v in values]
        try:
            arrays[col] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: keep them readable as text
            arrays[col] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.table(arrays)


def _methods(manifest: dict[str, Any]) -> list[str]:
    methods = (manifest.get("config") or {}).get("methods")
    return [str(m) for m in methods] if isinstance(methods, list) else []


def _index(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 1 << 62


__all__ = ["NONDETERMINISTIC", "RunStore", "rows_to_table", "safe_name"]
