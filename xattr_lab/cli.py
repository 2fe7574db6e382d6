"""The ``xattr-lab`` command: ``demo``, ``explain``, ``bench NAME``, ``grok``.

Each subcommand lives in its own module exposing ``main(argv) -> int``; this file only dispatches, so the
command starts fast and loads heavy libraries only for the subcommand asked for. Every subcommand, present
or future, runs through :func:`xattr_lab.cli_common.run_main`: a user error prints one line naming the
option and exits 2 (no traceback; ``XATTR_LAB_TRACEBACK=1`` shows it), Ctrl-C exits 130.
"""

from __future__ import annotations

import importlib
import sys

_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("xattr_lab.demo", "explain the ShapesVLM, print the faithfulness table, write an HTML report"),
    "explain": ("xattr_lab.attr.cli", "explain one answer of a model on an image"),
    "grok": ("xattr_lab.diagnostics.grokking.cli", "train a grokking run with progress measures"),
    "run": ("xattr_lab.runs.cli", "explain a dataset with several methods from a TOML config (resumable)"),
}
_BENCHES: dict[str, str] = {
    "scorer": "xattr_lab.bench.scorer",
    "search": "xattr_lab.bench.search",
    "faithfulness": "xattr_lab.bench.faithfulness",
    "compare": "xattr_lab.bench.compare",
    "memory": "xattr_lab.bench.memory",
    "intervention": "xattr_lab.bench.intervention",
    "resume": "xattr_lab.bench.resume",
    "run": "xattr_lab.bench.run_bench",
    "frames": "xattr_lab.bench.frames",
    "tam": "xattr_lab.bench.tam_native",
    "hallucination": "xattr_lab.bench.hallucination",
}


def _usage() -> str:
    lines = ["usage: xattr-lab COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:<14}{help_}" for name, (_, help_) in _COMMANDS.items()]
    lines.append(f"  {'bench NAME':<14}run a benchmark and print JSON; NAME in {', '.join(_BENCHES)}")
    lines += ["", "exit status: 0 done, 2 a usage error (XATTR_LAB_TRACEBACK=1 shows its traceback), 130 Ctrl-C"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 2 user error, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0
    command, rest = args[0], args[1:]
    prog = f"xattr-lab {command}"
    if command == "bench":
        if not rest or rest[0] not in _BENCHES:
            print(f"xattr-lab bench: expected one of {', '.join(_BENCHES)}", file=sys.stderr)
            return 2
        module = _BENCHES[rest[0]]
        prog, rest = f"xattr-lab bench {rest[0]}", rest[1:]
    elif command in _COMMANDS:
        module = _COMMANDS[command][0]
    else:
        print(f"xattr-lab: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from xattr_lab.cli_common import run_main

    # the import itself runs inside run_main too: Ctrl-C while torch loads is an interrupt, not a traceback
    return run_main(prog, lambda a: importlib.import_module(module).main(a), rest)


if __name__ == "__main__":
    sys.exit(main())
