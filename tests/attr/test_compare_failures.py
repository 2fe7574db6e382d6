"""Issue 18 item 5: compare() is not all-or-nothing.

Before, one method that raised threw away every method already finished (the exception escaped compare()).
Now its row records the error (``row["error"]``, ``info["errors"]``), the next method runs, and the
Comparison exports to HTML. Ctrl-C keeps its own rules (it still stops the comparison).
"""

import math

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.results.comparison import COLUMNS, Comparison
from xattr_lab.viz.html import read_payload_json


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


@pytest.fixture
def failing():
    """A registered method that raises an ordinary exception, and one that raises Ctrl-C."""
    from xattr_lab.attr.registry import _REGISTRY, register_method

    @register_method("test_fails_boom")
    def boom(ctx):
        raise RuntimeError("boom: this method is broken")

    @register_method("test_fails_ctrl_c")
    def ctrl_c(ctx):
        raise KeyboardInterrupt

    yield "test_fails_boom", "test_fails_ctrl_c"
    _REGISTRY.pop("test_fails_boom", None)
    _REGISTRY.pop("test_fails_ctrl_c", None)


KW = {"regions": "grid:3", "tokens": [0]}


def test_a_failing_method_keeps_the_others_and_records_its_error(model, failing):
    boom, _ = failing
    with pytest.warns(RuntimeWarning, match=f"1 of 3 methods failed .*{boom}"):
        cmp = xattr_lab.compare(model, model.image, "describe", ["random", boom, "eagle"],
                                mask=model.object_masks[0], **KW)  # fmt: skip
    assert cmp.methods == ("random", boom, "eagle")
    assert [e.method for e in cmp.explanations] == ["random", "eagle"]  # both finished methods kept
    assert all(set(r) == set(COLUMNS) for r in cmp.rows)
    row = cmp.rows[1]
    assert row["error"] == "RuntimeError: boom: this method is broken"
    assert math.isnan(row["insertion_auc"]) and math.isnan(row["deletion_auc"]) and math.isnan(row["pointing_game"])
    assert row["forwards"] == 0 and row["partial"] is False and row["seconds"] >= 0
    assert cmp.info["errors"] == {boom: row["error"]} == cmp.errors
    assert cmp.rows[0]["error"] is None and cmp.rows[2]["error"] is None
    # the method after the failure ran and was scored like any other
    assert cmp.rows[2]["insertion_auc"] > 0 and cmp.rows[2]["pointing_game"] in (0.0, 1.0)
    assert not cmp.partial and not cmp.info["interrupted"] and cmp.info["not_run"] == []
    assert "1 failed" in repr(cmp)
    with pytest.raises(KeyError, match="method"):
        cmp[boom]  # no Explanation for a failed method
    data = cmp.to_view_data()
    assert data["methods"] == ["random", "eagle"] and data["pixel_maps"].shape[0] == 2
    assert data["metrics"]["eagle"]["insertion_auc"] == cmp.rows[2]["insertion_auc"]


def test_export_html_and_save_load_with_a_failed_row(model, failing, tmp_path):
    boom, _ = failing
    with pytest.warns(RuntimeWarning):
        cmp = xattr_lab.compare(model, model.image, "describe", [boom, "random", "eagle"], **KW)
    page = cmp.export_html(tmp_path / "cmp.html")
    text = page.read_text("utf-8")
    assert page == tmp_path / "cmp.html" and text.startswith("<!DOCTYPE html>")
    assert "1 failed" in text  # the summary names the failure
    start = text.index('<script type="application/vnd.xattr-lab.v1+json">')
    block = text[text.index(">", start) + 1 : text.index("</script>", start)]
    payload = read_payload_json(block)
    assert payload["view"] == "comparison" and payload["data"]["methods"] == ["random", "eagle"]
    with pytest.raises(ValueError, match="path"):
        cmp.export_html(tmp_path / "cmp.txt")
    back = Comparison.load(cmp.save(tmp_path / "cmp"))
    assert back.errors == cmp.errors and back.methods == cmp.methods
    assert [e.method for e in back.explanations] == ["random", "eagle"]


def test_ctrl_c_still_stops_after_a_recorded_failure(model, failing):
    boom, ctrl_c = failing
    with pytest.warns(RuntimeWarning):
        cmp = xattr_lab.compare(model, model.image, "describe", ["random", boom, ctrl_c, "eagle"], **KW)
    assert cmp.methods == ("random", boom) and cmp.info["interrupted"]
    assert cmp.info["not_run"] == [ctrl_c, "eagle"] and cmp.partial
    assert set(cmp.errors) == {boom}


def test_when_every_method_fails(model, failing):
    boom, _ = failing
    from xattr_lab.attr.registry import _REGISTRY, register_method

    @register_method("test_fails_value")
    def value(ctx):
        raise ValueError("bad value")

    try:
        with pytest.raises(RuntimeError, match="every method failed .*boom.*bad value") as info:
            xattr_lab.compare(model, model.image, "describe", [boom, "test_fails_value"], **KW)
        assert isinstance(info.value.__cause__, RuntimeError)  # the first failure, chained
        with pytest.raises(ValueError, match="bad value"):  # one method: its own exception, unchanged
            xattr_lab.compare(model, model.image, "describe", ["test_fails_value"], **KW)
    finally:
        _REGISTRY.pop("test_fails_value", None)


def test_a_failing_rescore_keeps_the_map_and_its_own_curves(model, monkeypatch):
    import xattr_lab.metrics.evaluate as ev

    def broken(*a, **k):
        raise FloatingPointError("rescore broke")

    monkeypatch.setattr(ev, "evaluate", broken)
    with pytest.warns(RuntimeWarning, match="2 of 2"):
        cmp = xattr_lab.compare(model, model.image, "describe", ["random", "eagle"], **KW)
    assert [e.method for e in cmp.explanations] == ["random", "eagle"]
    for row, e in zip(cmp.rows, cmp.explanations):
        assert row["error"] == "rescoring: FloatingPointError: rescore broke"
        assert row["insertion_auc"] == e.metrics["insertion_auc"] and np.isfinite(row["insertion_auc"])
