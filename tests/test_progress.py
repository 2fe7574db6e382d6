"""progress_bar: tqdm's text in terminals; in a notebook kernel one output updated in place, never a widget."""

from __future__ import annotations

import io

import pytest

from xattr_lab import progress as progress_mod
from xattr_lab.progress import NotebookTextBar, progress_bar


def test_terminal_bar_is_text_with_eta():
    out = io.StringIO()
    with progress_bar(4, "search", unit="region", file=out, mininterval=0) as bar:
        bar.update(2)
        bar.set_postfix_str("budget ok")
        bar.update(2)
    text = out.getvalue()
    assert "search" in text and "4/4" in text and "region" in text and "budget ok" in text
    assert "<" in text  # tqdm's "elapsed<remaining" (the ETA)


def test_rejects_bad_total():
    with pytest.raises(ValueError, match="total"):
        progress_bar(-1)


class _Handle:
    def __init__(self, log):
        self.log = log

    def update(self, bundle, raw=False):
        self.log.append(("update", bundle["text/plain"]))


@pytest.fixture
def notebook(monkeypatch):
    """Pretend to run in a kernel; record display()/update() calls instead of sending them."""
    log: list[tuple[str, str]] = []

    def fake_display(bundle, raw=False, display_id=None):
        assert raw and display_id is True and set(bundle) == {"text/plain"}  # text only: no widget mime type
        log.append(("display", bundle["text/plain"]))
        return _Handle(log)

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", fake_display)
    monkeypatch.setattr(progress_mod, "in_notebook", lambda: True)
    return log


def test_notebook_bar_updates_one_text_output_and_keeps_the_last_line(notebook):
    bar = progress_bar(3, "grok", unit="step", mininterval=0)
    assert isinstance(bar, NotebookTextBar)
    for _ in range(3):
        bar.update(1)
    bar.close()
    assert [kind for kind, _ in notebook].count("display") == 1  # one output, then updates in place
    assert "3/3" in notebook[-1][1] and notebook[-1][1].startswith("grok")


def test_notebook_bar_with_leave_false_clears_on_completion(notebook):
    with progress_bar(2, "eagle (efficient)", leave=False, mininterval=0) as bar:
        bar.update(2)
    assert notebook[0][0] == "display"
    assert notebook[-1] == ("update", "")  # a saved notebook keeps an empty text output, no bar


class _RecordingBar:
    """What explore() passes to explain: a tqdm-like object that is reset to the region count, then ticked."""

    def __init__(self):
        self.total, self.n, self.postfix = None, 0, None

    def reset(self, total=None):
        self.total, self.n = total, 0

    def update(self, n=1):
        self.n += n

    def set_postfix_str(self, text):
        self.postfix = text


def test_explain_advances_a_callers_bar_and_leaves_it_open():
    from xattr_lab import explain
    from xattr_lab.attr.synthetic import SyntheticModel

    m = SyntheticModel()
    bar = _RecordingBar()
    explain(m, m.image, "describe", regions="grid:2", tokens=[0], search="efficient", progress=bar)
    assert bar.total == 4 and bar.n == 4  # one tick per placed region
    assert bar.postfix  # the search's forward-budget estimate


def test_hub_bars_off_switches_transformers_bars_off_for_the_block_only():
    from transformers.utils import logging as hf_logging

    from xattr_lab.progress import hub_bars_off

    assert hf_logging.is_progress_bar_enabled()
    with hub_bars_off():
        assert not hf_logging.is_progress_bar_enabled()
    assert hf_logging.is_progress_bar_enabled()
