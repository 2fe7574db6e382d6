"""plotly figures of the results (issue 16, item 6): ``figure()`` on each result, offline HTML export, and the
training view's series table agreeing between Python and JS."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xattr_lab
from xattr_lab.results.spectrum import STAT_NAMES, SpectrumReport
from xattr_lab.results.training import TrainingRun
from xattr_lab.viz.figures import figure_html
from xattr_lab.viz.training_view import SERIES_SPEC, default_panels, fnv1a, series_colour

ROOT = Path(__file__).resolve().parents[2]
GROK_NAMES = [
    "effective_rank", "excluded_loss", "fourier_gini", "lr", "med", "n_key_freqs", "participation_ratio",
    "restricted_loss", "test_acc", "test_loss", "train_acc", "train_loss", "unif_hypersphere",
    "wd_uniformity_dist_cv", "wd_uniformity_norm_cv", "weight_norm",
]  # fmt: skip


@pytest.fixture(scope="module")
def model():
    from xattr_lab.attr.synthetic import SyntheticModel

    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


@pytest.fixture(scope="module")
def comparison(model):
    return xattr_lab.compare(
        model, model.image, "describe", methods=["eagle", "random", "occlusion"], tokens=[0], regions="grid:4",
        progress=False,
    )


def _run() -> TrainingRun:
    steps = np.arange(0, 2001, 50)
    t = steps / steps[-1]
    series = {n: 1.0 + np.cos(3 * t + i) ** 2 for i, n in enumerate(GROK_NAMES)}
    series["train_acc"] = np.clip(4 * t, 0, 1)
    series["test_acc"] = np.clip(3 * t - 1.5, 0.01, 1)
    series["unif_hypersphere"] = -3.7 - 0.1 * t
    events = {"train_acc_99": 500, "train_acc_100": 500, "test_acc_50": 700, "test_acc_99": 1000, "med_peak": 0}
    return TrainingRun(steps=steps, series=series, events=events, labels={"test_acc": "test accuracy"})


def _report() -> SpectrumReport:
    rng = np.random.default_rng(0)
    L, H, T = 2, 3, 6
    return SpectrumReport(
        scheme="rope",
        stats={k: rng.random((L, H)) for k in STAT_NAMES},
        mean_logits=rng.random((L, H, T, T)).astype(np.float32),
        eig_sym=rng.normal(size=(L, H, T)),
        eig=rng.normal(size=(L, H, T)) + 1j * rng.normal(size=(L, H, T)),
        singular_values=np.sort(rng.random((L, H, T)))[..., ::-1],
        toeplitz_profile=rng.normal(size=(L, H, 2 * T - 1)),
        eig_sym_without=rng.normal(size=(L, H, T)),
    )


def test_explanation_figure_overlays_the_map_with_a_colour_bar_and_names_the_token(comparison):
    e = comparison["eagle"]
    fig = e.figure()
    kinds = [tr.type for tr in fig.data]
    assert kinds == ["image", "heatmap"]
    heat = fig.data[1]
    assert np.asarray(heat.z).shape == e.pixel_map.shape
    assert heat.showscale is not False and heat.colorbar.title.text == "score"
    assert repr(e.target_tokens[0]) in fig.layout.title.text
    contour = e.figure(overlay="contour", curves=True)
    assert [tr.type for tr in contour.data] == ["image", "contour", "scatter", "scatter"]
    assert [tr.type for tr in e.figure(overlay="beside").data] == ["image", "heatmap"]
    with pytest.raises(ValueError, match="overlay"):
        e.figure(overlay="nope")


def test_comparison_figure_is_a_grid_with_per_method_scales_and_metrics(comparison):
    fig = comparison.figure()
    maps = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(maps) == len(comparison.explanations) == 3
    for tr, e in zip(maps, comparison.explanations):
        finite = e.pixel_map[np.isfinite(e.pixel_map)]
        assert tr.zmax == pytest.approx(max(abs(finite.max()), abs(finite.min())) if finite.min() < 0 < finite.max()
                                        else finite.max())  # fmt: skip
    assert len({round(tr.colorbar.x, 3) for tr in maps}) == 3  # one colour bar beside each map
    ins = {r["method"]: r["insertion_auc"] for r in comparison.rows}
    titles = [a.text for a in fig.layout.annotations]
    for m in comparison.methods:
        assert any(m in t and f"ins {ins[m]:.3f}" in t for t in titles)
    shared = comparison.figure(shared_scale=True)
    ranges = {(tr.zmin, tr.zmax) for tr in shared.data if tr.type == "heatmap"}
    assert len(ranges) == 1 and sum(tr.showscale is not False for tr in shared.data if tr.type == "heatmap") == 1


def test_training_figure_has_subplots_by_quantity_colours_by_name_and_numbered_events():
    run = _run()
    fig = run.figure()
    panels = default_panels(sorted(run.series))
    assert [a.text for a in fig.layout.annotations[: len(panels)]] == [p["title"] for p in panels]
    lines = {tr.name: tr for tr in fig.data}
    assert lines["test accuracy"].line.color == series_colour("test_acc")
    assert lines["test accuracy"].legendgroup == "accuracy"
    long = TrainingRun(steps=run.steps, series={"med": run.series["med"]}, labels={"med": "MED " + "x" * 40}).figure()
    assert long.data[0].name == "med" and "MED xxx" in long.data[0].hovertemplate  # long labels stay out of the legend
    assert {tr.legendgrouptitle.text for tr in fig.data} == {p["title"] for p in panels}
    # events at one step share a line and a label; names are listed once, under the figure
    labels = [a.text for a in fig.layout.annotations if re.fullmatch(r"[\d,]+", a.text or "")]
    assert labels[:4] == ["1", "2,3", "4", "5"]
    listing = fig.layout.annotations[-1].text
    assert "test_acc_99 (step 1000)" in listing and "<b>5</b>" in listing
    types = {fig.layout[f"yaxis{'' if i == 0 else i + 1}"].type for i, p in enumerate(panels) if p["log_y"]}
    assert types == {"log"}
    for i, p in enumerate(panels):  # round log ticks, at least three per log axis
        axis = fig.layout[f"yaxis{'' if i == 0 else i + 1}"]
        if p["log_y"]:
            assert len(axis.tickvals) >= 3 and all(f"{v:g}" == s for v, s in zip(axis.tickvals, axis.ticktext))


def test_spectrum_figure_draws_the_esd_with_and_without_positions_and_the_toeplitz_fit():
    rep = _report()
    fig = rep.figure(layer=1, head=2)
    assert [tr.type for tr in fig.data] == ["histogram", "histogram", "scatter", "scatter", "scatter"]
    assert np.asarray(fig.data[0].x).size == rep.eig_sym.size
    assert np.allclose(fig.data[3].y, rep.toeplitz_profile[1, 2])
    assert f"{rep.stats['toeplitz_fraction'][1, 2]:.0%}" in fig.layout.annotations[2].text
    with pytest.raises(ValueError, match="layer, head"):
        rep.figure(layer=1)


def test_figure_html_is_offline(tmp_path):
    path = figure_html(_run().figure(), tmp_path / "run.html")
    html = path.read_text(encoding="utf-8")
    assert len(html) > 1_000_000  # plotly.js itself is inside
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert "cdn.plot.ly" not in html.split("</script>", 1)[0][:2000]
    with pytest.raises(ValueError, match="path"):
        figure_html(_run().figure(), tmp_path / "run.png")


def test_results_do_not_import_plotly():
    code = "import sys, xattr_lab; from xattr_lab.results import training, spectrum; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_series_table_is_the_same_in_python_and_js():
    ts = (ROOT / "js" / "lib" / "series.ts").read_text(encoding="utf-8")
    block = ts.split("/* SERIES-SPEC-BEGIN */", 1)[1].split("/* SERIES-SPEC-END */", 1)[0]
    js_spec = json.loads(block.split("=", 1)[1].strip().rstrip(";"))
    assert js_spec == SERIES_SPEC
    assert fnv1a("a") == 0xE40C292C  # the FNV-1a test vector the JS test checks too
    for p in default_panels(GROK_NAMES):  # each grokking panel has distinct colours
        assert len({series_colour(n) for n in p["names"]}) == len(p["names"])
