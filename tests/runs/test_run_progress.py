"""Run progress: counts for callbacks, a tqdm bar with done/failed in terminals, a static HTML line in notebooks."""

from __future__ import annotations

import io

import pytest

from xattr_lab.runs import progress as prog
from xattr_lab.runs.progress import RunProgress


def test_callback_gets_counts_and_eta_fields():
    seen = []
    p = RunProgress(total=5, done=2, desc="r", progress=seen.append)
    p.update("a/x", "ok")
    p.update("b/x", "error")
    p.close()
    assert seen[-1] == {"done": 3, "failed": 1, "total": 5, "todo": 1, "key": "b/x", "status": "error"}
    assert ", ETA " in p._eta() and "units/h" in p._eta()


def test_terminal_bar_shows_done_and_failed(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(prog.sys, "stderr", err)
    p = RunProgress(total=3, done=1, desc="myrun", progress=True)
    p.update("k", "ok")
    p.update("k2", "error")
    p.close()
    text = err.getvalue()
    assert "myrun" in text and "3/3" in text and "done=2 failed=1" in text


def test_notebook_view_is_plain_html_that_stays_readable(monkeypatch):
    pytest.importorskip("IPython")
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    import IPython.display

    monkeypatch.setattr(prog, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, display_id=False: shown.append(obj.data) or Handle())
    p = RunProgress(total=2, done=0, desc="<run>", progress=True)
    p.update("a", "ok")
    p.update("b", "ok")
    p.close()
    assert shown[0].startswith('<div class="xattr-run-progress"><progress value="0" max="2"')
    assert "&lt;run&gt;: 2/2 done, 0 failed, finished" in shown[-1] and "<script" not in shown[-1]


def test_nothing_shown_when_nobody_watches(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(prog.sys, "stderr", err)
    p = RunProgress(total=2, done=0, desc="r", progress=None)  # stderr is not a terminal here
    p.update("a", "ok")
    p.close()
    assert err.getvalue() == ""
