"""workshop.check: verdicts, hints, type checks and unknown ids (synthetic keys, no model)."""

from __future__ import annotations

import pytest

from xattr_lab import workshop
from xattr_lab.workshop import Choice, Computed, Exercise, Items, Number
from xattr_lab.workshop import checking as check_module

KEY = {
    e.id: e
    for e in (
        Exercise("91.1", "Which?", Choice(("eagle", "random", "ig"), "eagle", {"ig": "gradients..."}), "h1", "x1"),
        Exercise("91.2", "How much?", Number(0.5, tol=0.05), "h2", "x2"),
        Exercise("91.3", "Which set?", Items(frozenset({"a", "b"}), options=("a", "b", "c", "d")), "h3", "x3"),
        Exercise("91.4", "Live", Computed(("res",), lambda res: res["best"], options=("p", "q")), "h4", "x4"),
        Exercise("91.5", "Live number", Computed(("res",), lambda r: r["auc"], tol=0.01), "h5", "x5"),
        Exercise("91.6", "Two objects", Computed(("a", "b"), lambda x, y: x - y, tol=0.0), "h6", "x6"),
    )
}


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setattr(check_module, "all_exercises", lambda: KEY)


def test_choice_right_close_wrong(key):
    right = workshop.check("91.1", " EAGLE ")
    assert right.verdict == "correct" and right.correct and right.explanation == "x1" and right.hint == ""
    close = workshop.check("91.1", "ig")
    assert close.verdict == "close" and close.note == "gradients..." and close.hint == "h1" and close.explanation == ""
    wrong = workshop.check("91.1", "random")
    assert wrong.verdict == "wrong" and wrong.hint == "h1" and not wrong.correct


def test_number_tolerances(key):
    assert workshop.check("91.2", 0.53).verdict == "correct"
    assert workshop.check("91.2", 0.6).verdict == "close"  # within 3 x tol
    assert workshop.check("91.2", 0.9).verdict == "wrong"
    assert workshop.check("91.2", 1).verdict == "wrong"  # ints are numbers too


def test_items(key):
    assert workshop.check("91.3", ["b", "A"]).verdict == "correct"
    fb = workshop.check("91.3", {"a"})
    assert fb.verdict == "close" and fb.note == "1 missing, 0 extra"
    assert workshop.check("91.3", {"c", "d"}).verdict == "wrong"


def test_computed_from_live_objects(key):
    assert workshop.check("91.4", "q", res={"best": "q"}).verdict == "correct"
    assert workshop.check("91.4", "p", res={"best": "q"}).verdict == "wrong"
    assert workshop.check("91.5", 0.305, res={"auc": 0.3}).verdict == "correct"
    with pytest.raises(ValueError, match="res="):
        workshop.check("91.5", 0.3)
    # the key receives the objects by position, in the order it names them (its own parameter names are free)
    assert workshop.check("91.6", 3, b=2, a=5).verdict == "correct"


def test_placeholder_answer_restates_the_question(key):
    fb = workshop.check("91.1")
    assert fb.verdict == "unanswered" and not fb.correct and fb.hint == "" and fb.explanation == ""
    assert "Which?" in fb.note and "'eagle', 'random', 'ig'" in fb.note
    assert workshop.check("91.2", ...).verdict == "unanswered"


def test_wrong_types_and_options(key):
    with pytest.raises(TypeError, match="91.1: answer: expected one of"):
        workshop.check("91.1", 3)
    with pytest.raises(ValueError, match="not an option"):
        workshop.check("91.1", "lime")
    with pytest.raises(TypeError, match="expected a number"):
        workshop.check("91.2", "0.5")
    with pytest.raises(TypeError, match="expected a number"):
        workshop.check("91.2", True)
    with pytest.raises(TypeError, match="set"):
        workshop.check("91.3", "ab")
    with pytest.raises(ValueError, match="not options"):
        workshop.check("91.3", {"a", "z"})
    with pytest.raises(TypeError, match="exercise_id"):
        workshop.check(91.1, "eagle")


def test_unknown_id_lists_valid_ones(key):
    valid = r"valid ids: 91\.1, 91\.2, 91\.3, 91\.4, 91\.5, 91\.6"
    with pytest.raises(ValueError, match=r"unknown exercise '9\.9'; " + valid):
        workshop.check("9.9", "eagle")


def test_feedback_renders_as_text_and_static_html(key):
    fb = workshop.check("91.1", "random")
    text = str(fb)
    assert text.startswith("✗ 91.1: not yet") and "Hint: h1" in text and repr(fb) == text
    html = fb._repr_html_()
    assert 'data-verdict="wrong"' in html and "Hint: </b>h1" in html and "<script" not in html
    ok = workshop.check("91.1", "eagle")._repr_html_()
    assert 'data-verdict="correct"' in ok and "x1" in ok


def test_html_escapes_key_text(monkeypatch):
    ex = Exercise("92.1", "q", Number(1.0, 0.1), "<b>hint</b>", "<script>x</script>")
    monkeypatch.setattr(check_module, "all_exercises", lambda: {ex.id: ex})
    assert "<script>" not in workshop.check("92.1", 1.0)._repr_html_()
    assert "&lt;b&gt;hint" in workshop.check("92.1", 5.0)._repr_html_()


def test_key_validation():
    with pytest.raises(ValueError, match="NN.k"):
        Exercise("4.2", "q", Number(1.0, 0.1), "h", "x")
    with pytest.raises(ValueError, match="not among the options"):
        Choice(("a", "b"), "c")
    with pytest.raises(ValueError, match="tol"):
        Number(1.0, tol=0.2, close_tol=0.1)


def test_real_keys_load_and_are_consistent():
    from xattr_lab.workshop.keys import all_exercises

    found = all_exercises()
    assert found, "no answer keys found"
    for ex_id, ex in found.items():
        assert ex.id == ex_id
    ids = [e.id for e in workshop.exercises()]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split(".")))
    assert all(e.notebook == "01" for e in workshop.exercises(1))


def test_feedback_displays_as_text_and_html_in_ipython(key):
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(workshop.check("91.2", 0.6))
    assert data["text/plain"].startswith("≈ 91.2: close")
    assert 'data-verdict="close"' in data["text/html"]
