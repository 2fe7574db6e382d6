"""Issue 14 items 7 and 9: the ``xattr-lab`` command shows no traceback for a user error and stops cleanly.

A user error (missing or unreadable ``--image``, unknown ``--model``, bad ``--task`` or ``--scene``,
unwritable ``--out``/``--html``/``--save``) prints one line naming the option and exits 2; Ctrl-C exits 130
and what is printed is strict JSON with a ``partial`` field. Each case runs the command as a subprocess.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYTHONUNBUFFERED": "1",
}
ENV.pop("XATTR_LAB_TRACEBACK", None)


def xattr_lab(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "xattr_lab.cli", *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=ENV,
    )  # fmt: skip


def strict_json(text):
    """Parse JSON that must not hold NaN or Infinity (Python's json accepts them by default)."""

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def a_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "a_file"
    path.write_text("not a directory, not an image")
    return path


def cases(a_file):
    return {
        "missing --image": (["explain", "--image", str(a_file.parent / "nope.png"), "--prompt", "hi"], "--image"),
        "unreadable --image": (["explain", "--image", str(a_file), "--prompt", "hi"], "--image: cannot read"),
        "--image without --prompt": (["explain", "--image", str(a_file)], "--prompt"),
        "unknown --model": (["explain", "--model", "no-such-model", "--regions", "grid:2"], "--model"),
        "bad --task": (["explain", "--task", "colr"], "--task"),
        "bad --scene": (["explain", "--scene", "-1"], "--scene"),
        "non-int --scene": (["explain", "--scene", "seven"], "--scene"),
        "bad --method": (["explain", "--method", "eagel"], "method: unknown method 'eagel'"),
        "--out under a file": (["explain", "--method", "random", "--out", str(a_file / "e")], "--out"),
        "--out is a file": (["explain", "--method", "random", "--out", str(a_file)], "--out: .* not a directory"),
        "--html under a file": (["explain", "--method", "random", "--html", str(a_file / "e.html")], "--html"),
        "grok bad --p": (["grok", "--p", "1", "--steps", "2"], "p: expected a prime"),
        "grok --save under a file": (["grok", "--steps", "2", "--save", str(a_file / "g")], "--save"),
        "grok bad --preset": (["grok", "--preset", "nope"], "--preset"),
        "bench unknown --model": (["bench", "faithfulness", "--model", "no-such-model", "--n", "1"], "--model"),
        "bench --out under a file": (["bench", "search", "--sizes", "4", "--out", str(a_file / "b.json")], "--out"),
        "bench bad --methods": (["bench", "compare", "--methods", "eagel", "--n", "1"], "eagel"),
        "bench unknown name": (["bench", "nope"], "expected one of"),
        "unknown command": (["nope"], "unknown command 'nope'"),
        "run without a config": (["run"], "config"),
    }


CASES = list(cases(Path("/x")))


@pytest.mark.parametrize("name", CASES)
def test_user_errors_print_one_line_and_exit_2(a_file, name):
    args, words = cases(a_file)[name]
    started = time.perf_counter()
    r = xattr_lab(*args)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    assert re.search(words, r.stderr), r.stderr
    assert r.stdout == ""  # refused before any work: nothing computed, nothing printed
    assert time.perf_counter() - started < 60


def test_the_traceback_is_there_when_asked_for(a_file):
    r = subprocess.run(
        [sys.executable, "-m", "xattr_lab.cli", "explain", "--method", "random", "--out", str(a_file / "e")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**ENV, "XATTR_LAB_TRACEBACK": "1"},
    )  # fmt: skip
    assert r.returncode == 1 and "Traceback" in r.stderr and "--out" in r.stderr


def test_any_subcommand_gets_the_handling(monkeypatch, capsys):
    """A new subcommand (``run`` say) gets exit 2 for user errors and 130 for Ctrl-C from the dispatcher."""
    import types

    from xattr_lab import cli

    def failing(exc):
        module = types.ModuleType("fake_command")
        module.main = lambda argv: (_ for _ in ()).throw(exc)
        return module

    for exc, code, words in [
        (ValueError("--scene: expected a scene"), 2, "xattr-lab run: --scene: expected a scene"),
        (FileNotFoundError(2, "No such file or directory", "/nope.png"), 2, "No such file or directory: /nope.png"),
        (KeyboardInterrupt(), 130, "xattr-lab run: interrupted"),
    ]:
        monkeypatch.setitem(sys.modules, "fake_command", failing(exc))
        monkeypatch.setitem(cli._COMMANDS, "run", ("fake_command", "a future command"))
        assert cli.main(["run", "--x"]) == code
        assert words in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "fake_command", failing(RuntimeError("a bug")))
    with pytest.raises(RuntimeError):  # a bug is not a user error: its traceback stays
        cli.main(["run"])


INTERRUPTED_EXPLAIN = """
import sys
from xattr_lab.scoring.subsets import SubsetScorer
inner, calls = SubsetScorer.probs, [0]
def probs(self, sets, *a, **kw):
    calls[0] += 1
    if calls[0] == {k} + 1:
        raise KeyboardInterrupt  # Ctrl-C, once, in the middle of the search
    return inner(self, sets, *a, **kw)
SubsetScorer.probs = probs
from xattr_lab.cli import main
sys.exit(main({argv!r}))
"""


def test_explain_after_ctrl_c_exits_130_with_strict_json_marked_partial(tmp_path):
    out = tmp_path / "partial.xattr"
    argv = ["explain", "--method", "eagle", "--regions", "grid:4", "--out", str(out)]
    r = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_EXPLAIN.format(k=5, argv=argv)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=ENV,
    )  # fmt: skip
    assert r.returncode == 130, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    doc = strict_json(r.stdout)  # before: NaN in the output, which no JSON parser accepts
    assert doc["partial"] is True and doc["metrics"]["insertion_auc"] is None
    import xattr_lab

    saved = xattr_lab.load(out)  # the partial result is kept, marked partial
    assert saved.partial and saved.method == "eagle"


def test_explain_prints_strict_json_when_complete():
    r = xattr_lab("explain", "--method", "random", "--regions", "grid:2")
    assert r.returncode == 0, r.stderr[-2000:]
    doc = strict_json(r.stdout)
    assert doc["partial"] is False and 0.0 <= doc["metrics"]["insertion_auc"] <= 1.0


def _sigint_as_in_a_terminal():
    # A child started from a non-interactive shell's background job inherits SIGINT ignored, and Python then
    # never raises KeyboardInterrupt: give the child the default disposition a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_after(proc, seconds):
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=120)


def test_explain_real_sigint_exits_130_without_traceback():
    # grid:16 greedy is 256 * 257 forwards: still searching when the signal comes
    proc = subprocess.Popen(
        [sys.executable, "-m", "xattr_lab.cli", "explain", "--method", "eagle", "--regions", "grid:16"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV,
        preexec_fn=_sigint_as_in_a_terminal,
    )  # fmt: skip
    out, err = _interrupt_after(proc, 8)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    if out:  # the signal came during the search (not while loading): the partial result is printed
        assert strict_json(out)["partial"] is True


def test_grok_real_sigint_exits_130_with_a_partial_summary(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "xattr_lab.cli", "grok", "--json", "--steps", "100000", "--save", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV,
        preexec_fn=_sigint_as_in_a_terminal,
    )  # fmt: skip
    # Wait for the progress bar's first evaluation (its postfix shows train accuracy), then press Ctrl-C.
    seen, deadline = b"", time.monotonic() + 120
    while b"train=" not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += os.read(proc.stderr.fileno(), 4096)
    assert b"train=" in seen, seen[-2000:]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    err = (seen + err).decode()
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted" in err
    doc = strict_json(out.decode())
    assert doc["partial"] is True and doc["steps_run"] < 100000 and doc["saved_to"] == str(tmp_path / "run")
    import xattr_lab

    assert len(xattr_lab.load(tmp_path / "run")) >= 1  # the partial run was saved


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "faithfulness", "--model", "synthetic", "--n", "2", "--regions", "grid:4"],
        ["bench", "search", "--sizes", "16", "--settings", "naive"],
    ],
)
def test_bench_stops_at_ctrl_c_with_130_instead_of_averaging_a_truncated_run(argv):
    r = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_EXPLAIN.format(k=3, argv=argv)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=ENV,
    )  # fmt: skip
    assert r.returncode == 130, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "interrupted" in r.stderr
    assert r.stdout == ""  # no table averaged over a search cut short
