"""What every ``xattr-lab`` subcommand shares: user errors without tracebacks, exit codes, strict JSON.

Exit codes: 0 done, 2 a user error (bad argument, missing or unwritable file; the message names the
option), 130 interrupted with Ctrl-C (128 + SIGINT, as shells report it). What a command prints as JSON is
strict JSON: a non-finite number (NaN, ±inf) becomes ``null``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# Errors a user's input causes: the library raises ValueError / TypeError naming the argument at its
# boundary; files that are missing, unreadable or unwritable give OSError (FileNotFoundError, ...).
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OSError)
TRACEBACK_ENV = "XATTR_LAB_TRACEBACK"  # set to 1 to see the traceback of a user error (debugging)


def run_main(prog: str, main: Callable[[list[str]], int | None], argv: list[str]) -> int:
    """Run a subcommand's ``main(argv)``; user errors print one line and give 2, Ctrl-C gives 130.

    Args:
        prog: the command as the user typed it (``"xattr-lab explain"``), prefixed to messages.
        main: the subcommand's entry point.
        argv: its arguments.

    Returns:
        The exit status.
    """
    try:
        return int(main(argv) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as err:
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(f"{prog}: {describe(err)}", file=sys.stderr)
        return EXIT_USAGE


def describe(err: BaseException) -> str:
    """A one-line message: OS errors as "what: path", others as their text."""
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror}{where}"
    return str(err) or type(err).__name__


def strict(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN), containers walked."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # numpy scalars and arrays
        return strict(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any, **kw: Any) -> str:
    """Strict JSON text of ``value`` (NaN and infinities as null)."""
    return json.dumps(strict(value), allow_nan=False, **kw)


def check_writable(path: str | os.PathLike, option: str, directory: bool) -> Path:
    """Refuse, before any work, an output path that cannot be written.

    Args:
        path: where the command will write.
        option: the option that named it (``"--out"``), for the message.
        directory: the command writes a directory there (else one file).

    Returns:
        The path.

    Raises:
        ValueError: when the path is empty, is a file where a directory is written (or the reverse), lies
            under a file, or its nearest existing folder is not writable.
    """
    text = os.fspath(path)
    if not text.strip():
        raise ValueError(f"{option}: expected a path, got an empty string")
    target = Path(text).expanduser()
    if target.exists():
        if directory and not target.is_dir():
            raise ValueError(f"{option}: {text} exists and is not a directory")
        if not directory and target.is_dir():
            raise ValueError(f"{option}: {text} is a directory; expected a file name")
    parent = target if target.exists() and directory else target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option}: cannot write {text}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: cannot write {text}: {parent} is not writable")
    return target
