"""Crash-safe replacement of a saved result: one rename commits, stale leftovers are swept.

A result directory holds ``result.json`` (the pointer: metadata, checksum and the name of its arrays file)
and ``arrays-<tag>.safetensors``. A save writes a *new* arrays file under a fresh tag, then a temporary
pointer, and commits with one ``os.replace`` of ``result.json``. Before that rename the old pointer still
names the old arrays file, which is only deleted after the rename, so at every instant ``result.json``
names a complete arrays file: a reader sees the old result or the new one, never a mix, and a kill at any
moment loses nothing. The directory itself is never renamed, so it never disappears either.

``<tag>`` is ``<host>-<pid>-<random>`` (host: 8 hex digits of a hash of the host name). Files of a writer
that is still running are never swept; leftovers of a dead writer (same host), of this process once its
save has finished, or older than :data:`STALE_SECONDS` are. Only names this module creates are touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POINTER = "result.json"
LEGACY_ARRAYS = "arrays.safetensors"  # schema version 1: fixed name, replaced in place (not atomic)
STALE_SECONDS = 24 * 3600.0  # leftovers of writers we cannot check (other hosts, reused pids)

_ARRAYS_RE = re.compile(r"^arrays-([0-9a-f]{8})-([0-9]{1,10})-([0-9a-f]{8})\.safetensors$")
_TMP_POINTER_RE = re.compile(r"^\.result-([0-9a-f]{8})-([0-9]{1,10})-([0-9a-f]{8})\.json\.tmp$")
# Temporary files of the version-1 writer (tempfile.mkstemp, prefix ".<name>."): the orphans.
_LEGACY_TMP_RE = re.compile(r"^\.(arrays\.safetensors|result\.json)\.[A-Za-z0-9_]{8}$")

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_IN_PROGRESS: set[str] = set()  # tags of saves running in this process (threads share the pid)
_LOCK = threading.Lock()


def is_arrays_name(name: str) -> bool:
    """Whether ``name`` is an arrays file name this module writes (so a pointer may name it)."""
    return name == LEGACY_ARRAYS or _ARRAYS_RE.match(name) is not None


def is_own_entry(name: str) -> bool:
    """Whether a directory entry is one of ours (pointer, arrays, temporary or legacy temporary file)."""
    return (
        name == POINTER
        or is_arrays_name(name)
        or _TMP_POINTER_RE.match(name) is not None
        or _LEGACY_TMP_RE.match(name) is not None
    )


def has_leftovers(directory: Path) -> bool:
    """Whether ``directory`` holds temporary files of an interrupted save (used for clearer load errors)."""
    try:
        return any(
            _TMP_POINTER_RE.match(e.name) or _ARRAYS_RE.match(e.name) or _LEGACY_TMP_RE.match(e.name)
            for e in os.scandir(directory)
        )
    except OSError:
        return False


@contextmanager
def new_tag() -> Iterator[str]:
    """A fresh writer tag, registered as in progress for the duration of the block."""
    tag = f"{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"
    with _LOCK:
        _IN_PROGRESS.add(tag)
    try:
        yield tag
    finally:
        with _LOCK:
            _IN_PROGRESS.discard(tag)


def arrays_name(tag: str) -> str:
    """The arrays file name of a writer tag."""
    return f"arrays-{tag}.safetensors"


def tmp_pointer_name(tag: str) -> str:
    """The temporary pointer file name of a writer tag."""
    return f".result-{tag}.json.tmp"


def write_file(path: Path, data: bytes) -> None:
    """Create ``path`` (must not exist), write ``data``, flush it to disk.

    The mode is ``0o666`` filtered by the umask, like any ordinary file (``mkstemp`` would give 0600).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    try:  # a killed child nobody has reaped yet is a zombie: it will never finish its save
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _removable(name: str, directory: Path, now: float) -> bool:
    """Whether an unreferenced entry of ours can go: its writer is finished for good."""
    if _LEGACY_TMP_RE.match(name) or name == LEGACY_ARRAYS:
        return True  # the version-1 writer is not part of this installation any more
    match = _ARRAYS_RE.match(name) or _TMP_POINTER_RE.match(name)
    if match is None:
        return False
    host, pid, _ = match.groups()
    tag = "-".join(match.groups())
    if host == _HOST:
        if int(pid) == os.getpid():
            with _LOCK:
                return tag not in _IN_PROGRESS
        if not _pid_alive(int(pid)):
            return True
    try:
        return now - (directory / name).lstat().st_mtime > STALE_SECONDS
    except OSError:
        return False


def sweep(directory: Path, pointed: Callable[[], str | None]) -> list[str]:
    """Delete our leftovers in ``directory``: files the pointer does not name whose writer is finished.

    Args:
        directory: a result directory.
        pointed: reads the arrays name the pointer names now (None: no pointer); raises ValueError when the
            pointer cannot be read, and then no arrays file is deleted. It is called *after* the liveness
            checks, so a writer that committed and exited in between is seen as the pointer's owner.

    Returns:
        The names deleted.
    """
    now = time.time()
    try:
        names = [e.name for e in os.scandir(directory) if e.is_file(follow_symlinks=False)]
    except OSError:
        return []
    doomed = [n for n in names if n != POINTER and is_own_entry(n) and _removable(n, directory, now)]
    try:
        current: str | None = pointed()
        known = True
    except ValueError:
        current, known = None, False
    removed = []
    for name in doomed:
        if name == current or (not known and is_arrays_name(name)):
            continue
        try:
            os.unlink(directory / name)
            removed.append(name)
        except OSError:  # gone already, or not ours to delete: sweeping is best effort
            pass
    return removed
