"""Widgets: binary state, live append, and explore() with a stand-in explain function."""

from __future__ import annotations

import numpy as np
from view_fixtures import XSS_TOKENS

from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.view import View
from xattr_lab.viz.widgets import TrainingCurves, XattrWidget


def test_widget_state_carries_arrays_as_bytes():
    w = View(explanation_payload({"tokens": ["a"], "scores": [0.5]}), "v").widget()
    assert isinstance(w, XattrWidget)
    assert isinstance(w.payload["data"]["scores"]["data"], bytes)
    w.close()


def test_training_curves_append_sends_events_and_flushes_state():
    sent = []
    w = TrainingCurves(["loss"], sync_every=3600)
    w.send = lambda content, buffers=None: sent.append(content)
    w.append(1, loss=0.5)
    w.append(2, loss=0.25, acc=0.9)
    assert [m["detail"]["steps"] for m in sent] == [[1.0], [2.0]]
    assert sent[1]["detail"]["values"] == {"loss": [0.25], "acc": [0.9]}
    assert len(w) == 2
    before = w.payload["data"]["steps"]["shape"]
    w.flush()
    assert before == [0] and w.payload["data"]["steps"]["shape"] == [2]
    acc = np.frombuffer(w.payload["data"]["series"]["acc"]["data"], "<f4")
    assert np.isnan(acc[0]) and acc[1] == np.float32(0.9)
    w.close()


class _Gen:
    image = np.zeros((16, 16, 3), np.uint8)
    prompt_tokens = ("<image>", "what")
    generated_tokens = ("a", XSS_TOKENS[0], "b")


class _Model:
    def generate(self, image, prompt, **kw):
        return _Gen()


class _Result:
    def __init__(self, token):
        self.token = token

    def to_view_data(self):
        return {
            "tokens": ["<image>", "what", "a", XSS_TOKENS[0], "b"],
            "token_kind": ["prompt", "prompt", "generated", "generated", "generated"],
            "targets": [2 + self.token],
            "image": _Gen.image,
            "labels": np.zeros((16, 16), np.int32),
            "region_scores": np.array([1.0]),
            "order": np.array([0]),
            "insertion": np.array([[0.1, 0.9]]),
            "deletion": np.array([[0.9, 0.1]]),
        }

    def __repr__(self):
        return f"Result({self.token})"


def test_explore_computes_on_selection_and_caches():
    from xattr_lab.viz.explore import explore

    calls = []

    def fake_explain(model, image, prompt, tokens, **kw):
        calls.append((tokens, sorted(kw)))
        if tokens == [2]:
            raise RuntimeError("boom")
        return _Result(tokens[0])

    w = explore(_Model(), _Gen.image, "what", explain_fn=fake_explain, method="eagle", background=False)
    assert w.payload["data"]["tokens"] == ["a", XSS_TOKENS[0], "b"]
    assert "click a token" in w.status
    w.selected = 1
    assert calls == [([1], ["generation", "method", "progress", "search"])]
    assert w.payload["title"] == "Result(1)" and w.status == ""
    assert np.frombuffer(w.payload["data"]["targets"]["data"], "<i4").tolist() == [1]
    w.selected = 0
    w.selected = 1  # cached: no new call
    assert len(calls) == 2
    w.selected = 2
    assert "boom" in w.status and w.error == "RuntimeError: boom"
    w.close()


def test_explore_defaults_to_the_efficient_search_and_keeps_greedy_as_an_option():
    from xattr_lab.viz.explore import explore

    seen = []

    def fake_explain(model, image, prompt, tokens, search=None, **kw):
        seen.append((search, {k: kw[k] for k in ("search_scope", "pending", "update_step") if k in kw}))
        return _Result(tokens[0])

    for kwargs, expected in (
        ({}, ("efficient", {})),  # EAGLE's own scope: the one that kept insertion on both worlds (docstring)
        ({"search": "greedy"}, ("greedy", {})),
        ({"search_scope": 10}, ("efficient", {"search_scope": 10})),  # the user's own scope is kept whole
    ):
        w = explore(_Model(), _Gen.image, "what", explain_fn=fake_explain, background=False, **kwargs)
        w.selected = 0
        assert seen[-1] == expected
        w.close()


def test_explore_background_merges_queued_clicks_and_reports_progress():
    """Clicks while a token computes replace the queued one: only the latest is computed next."""
    import threading

    from xattr_lab.viz.explore import explore

    release = threading.Event()
    started = threading.Event()
    calls, progress_seen, pending_seen = [], [], []

    def slow_explain(model, image, prompt, tokens, progress=None, **kw):
        calls.append(tokens[0])
        progress.reset(total=4)
        progress.update(1)
        started.set()
        release.wait(10)
        progress.update(3)
        return _Result(tokens[0])

    w = explore(_Model(), _Gen.image, "what", explain_fn=slow_explain)
    w.observe(lambda c: progress_seen.append(dict(c["new"])), names="progress")
    w.observe(lambda c: pending_seen.append(c["new"]), names="pending")
    w.selected = 0
    assert started.wait(10)
    assert w.pending == 0 and w.status.startswith("computing token 0")
    state = w.progress
    assert state["token"] == 0 and state["done"] == 1 and state["total"] == 4 and state["eta"] is not None
    w.selected = 1  # queued …
    w.selected = 2  # … and replaced: token 1 is never computed
    assert w.pending == 2
    release.set()
    assert w.wait(10)
    assert calls == [0, 2]
    assert w.payload["title"] == "Result(2)" and w.pending == -1 and w.progress == {} and w.status == ""
    assert set(w.explanations) == {0, 2}  # token 0 was cached though the reader had moved on
    assert progress_seen[-1] == {} and any(p.get("done") == 4 for p in progress_seen)
    assert pending_seen[:2] == [0, 1] and pending_seen[-1] == -1
    w.selected = 0  # cached: shown at once, no new computation
    assert w.payload["title"] == "Result(0)" and calls == [0, 2]
    w.close()


def test_explore_refuses_tokens_and_progress_false_hides_the_bar():
    import pytest

    from xattr_lab.attr.synthetic import SyntheticModel
    from xattr_lab.viz.explore import explore

    m = SyntheticModel()
    with pytest.raises(TypeError, match="tokens"):
        explore(m, m.image, "describe", tokens=[0])
    bars = []

    def fake_explain(model, image, prompt, tokens, progress=None, **kw):
        bars.append(progress)
        return _Result(tokens[0])

    w = explore(_Model(), _Gen.image, "what", explain_fn=fake_explain, background=False, progress=False)
    w.selected = 0
    assert bars == [False] and w.progress == {}
    w.close()


def test_explore_with_the_real_explain_uses_the_efficient_search():
    from xattr_lab.attr.synthetic import SyntheticModel
    from xattr_lab.viz.explore import explore

    m = SyntheticModel()
    w = explore(m, m.image, "describe", regions="grid:4")
    w.selected = 1
    assert w.wait(60)
    e = w.explanations[1]
    assert e.info["search"] == "efficient" and w.error == "" and w.progress == {}
    w.close()
