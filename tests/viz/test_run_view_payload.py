"""The run view's payload, bundle, HTML export and live drill-down, on a small real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xattr_lab.viz.html import MIME_TYPE
from xattr_lab.viz.run_view import embedded_explanations, run_payload, run_view

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from xattr_lab.runs.api import run

    out = tmp_path_factory.mktemp("run") / "r"
    return run("toy-shapes", {"name": "shapes", "n": 2, "seed": 0}, ["eagle", "random"], out,
               regions="grid:4", search="efficient", progress=False)  # fmt: skip


def test_payload_has_a_board_per_task_and_metric_and_every_row(small_run):
    data = small_run.to_view_data()
    p = run_payload(data)
    assert p["view"] == "run_board"
    d = p["data"]
    assert len(d["rows"]) == d["n_rows_total"] == 4
    assert d["row_keys"] == [r["key"] for r in data["rows"]]
    assert {"sample_id", "method", "status", "insertion_auc"} <= set(d["columns"])
    boards = [b for b in d["tasks"] if b["metric"] == "insertion_auc"]
    assert [b["task"] for b in boards] == ["all", *small_run.tasks()]
    lb = {e["method"]: e for e in small_run.leaderboard("all", "insertion_auc", "eagle")}
    pooled = boards[0]
    assert pooled["methods"] == ["eagle", "random"] and pooled["reference"] == "eagle"
    assert pooled["mean"] == [lb["eagle"]["mean"], lb["random"]["mean"]]
    assert pooled["lo"][1] == lb["random"]["low"] and pooled["diff"][1] == lb["random"]["diff"]
    for path in d["result_paths"]:
        assert Path(path).is_absolute() and Path(path).exists()
    assert run_payload(data, max_rows=3)["data"]["n_rows_total"] == 4
    assert len(run_payload(data, max_rows=3)["data"]["rows"]) == 3


def test_untrusted_row_text_stays_text_in_the_html(small_run):
    data = small_run.to_view_data()
    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    data["rows"][0] = {**data["rows"][0], "prompt": evil, "status": "error", "error": evil + "\ntraceback"}
    from xattr_lab.viz.bundle import payload_bundle

    html = payload_bundle(run_payload(data), "r")["text/html"]
    assert "<img src=x" not in html and "</script><script>alert" not in html
    d = run_payload(data)["data"]
    assert d["rows"][0][d["columns"].index("error")] == evil  # first line only, as text
    assert d["result_paths"][0] is None  # a failed row points at no file


def test_bundle_embeds_a_bounded_number_of_explanations(small_run):
    bundle = small_run._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    d = bundle[MIME_TYPE]["data"]
    assert list(d["explanations"]) == [r["key"] for r in small_run.to_view_data()["rows"]]  # 4 <= default
    emb = embedded_explanations(small_run, small_run.to_view_data(), embed=1)
    assert list(emb) == ["0/eagle"] and "region_scores" in emb["0/eagle"]
    assert "explanations" not in run_view(small_run, embed=0).payload["data"]
    with pytest.raises(ValueError, match="embed"):
        embedded_explanations(small_run, small_run.to_view_data(), embed=-1)
    with pytest.raises(TypeError, match="data"):
        run_payload({"no": "rows"})


def test_export_html_is_self_contained(small_run, tmp_path):
    path = small_run.export_html(tmp_path / "run.html")
    text = path.read_text("utf-8")
    assert "run_board" in text and "http://" not in text.split("<script>")[0]
    start = text.index(f'<script type="{MIME_TYPE}">') + len(f'<script type="{MIME_TYPE}">')
    payload = json.loads(text[start : text.index("</script>", start)])
    assert payload["view"] == "run_board"  # its data may travel compressed; the browser test opens it


def test_live_widget_answers_a_row_click_with_that_explanation(small_run):
    widget = small_run.widget()
    assert widget.payload["data"]["live"] is True and "explanations" not in widget.payload["data"]
    sent = []
    widget.send = lambda msg, buffers=None: sent.append(msg)
    widget._handle_custom_msg({"type": "open", "key": "1/random"}, [])
    widget._handle_custom_msg({"type": "open", "key": "9/none"}, [])
    assert [m["detail"]["key"] for m in sent] == ["1/random", "9/none"]
    assert sent[0]["topic"] == "explanation" and "region_scores" in sent[0]["detail"]["data"]
    assert isinstance(sent[0]["detail"]["data"]["region_scores"]["data"], str)  # base64 JSON, not bytes
    assert "not in this run" in sent[1]["detail"]["error"]
