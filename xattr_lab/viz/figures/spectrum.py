"""plotly figure of a :class:`~xattr_lab.results.spectrum.SpectrumReport`: spectra of one head and all heads."""

from __future__ import annotations

from typing import Any

import numpy as np

from xattr_lab.viz.figures._common import go, subplots

_BLUE, _ORANGE, _GREY = "#4e79a7", "#f28e2b", "#888888"


def _stat(report: Any, name: str, layer: int, head: int) -> float:
    v = report.stats.get(name)
    return float(np.asarray(v)[layer, head]) if v is not None else float("nan")


def spectrum_figure(report: Any, layer: int | None = None, head: int | None = None) -> Any:
    """The empirical spectral density over all heads, and one head's eigenvalues, Toeplitz fit and singular values.

    Panels: (1) histogram of the symmetric-part eigenvalues of every head (ESD), with the spectrum without
    positional coupling overlaid when the report has it; (2) the head's complex eigenvalues; (3) the head's
    Toeplitz profile — the diagonal means, i.e. the least-squares Toeplitz fit of its logits — with the
    fraction of variance that fit explains; (4) the head's singular values (log scale) with its effective and
    stable rank. A SpectrumReport holds no power-law fit (that is the weight ESD's, ``WeightSpectrum``).

    Args:
        report: a SpectrumReport.
        layer: layer of the detailed head (default: the head with the largest spread).
        head: head of the detailed head.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    layer, head = report.pick_head(layer, head)
    g = go()
    tf = _stat(report, "toeplitz_fraction", layer, head)
    titles = [
        f"ESD of the symmetric part (all {report.n_layers * report.n_heads} heads)",
        f"eigenvalues, layer {layer} head {head}",
        f"Toeplitz fit, layer {layer} head {head}" + (f" (explains {tf:.0%})" if np.isfinite(tf) else ""),
        f"singular values, layer {layer} head {head}",
    ]
    fig = subplots(rows=2, cols=2, subplot_titles=titles, horizontal_spacing=0.12, vertical_spacing=0.16)
    eig_sym = np.asarray(report.eig_sym, dtype=np.float64).ravel()
    fig.add_trace(
        g.Histogram(x=eig_sym[np.isfinite(eig_sym)], nbinsx=60, name="with positions", marker_color=_BLUE,
                    opacity=0.75, histnorm="probability density"),
        row=1, col=1,
    )
    if report.eig_sym_without is not None:
        without = np.asarray(report.eig_sym_without, dtype=np.float64).ravel()
        fig.add_trace(
            g.Histogram(x=without[np.isfinite(without)], nbinsx=60, name="without positional coupling",
                        marker_color=_ORANGE, opacity=0.6, histnorm="probability density"),
            row=1, col=1,
        )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="eigenvalue λ", row=1, col=1)
    fig.update_yaxes(title_text="density", row=1, col=1)
    eig = np.asarray(report.eig[layer, head])
    fig.add_trace(
        g.Scatter(x=eig.real, y=eig.imag, mode="markers", name="eigenvalues", marker={"color": _BLUE, "size": 6}),
        row=1, col=2,
    )
    fig.update_xaxes(title_text="Re λ", zeroline=True, row=1, col=2)
    fig.update_yaxes(title_text="Im λ", zeroline=True, row=1, col=2)
    T = report.seq_len
    profile = np.asarray(report.toeplitz_profile[layer, head], dtype=np.float64)
    fig.add_trace(
        g.Scatter(x=np.arange(-(T - 1), T), y=profile, mode="lines+markers", name="diagonal mean (Toeplitz fit)",
                  line={"color": _BLUE}, marker={"size": 4}),
        row=2, col=1,
    )
    fig.update_xaxes(title_text="offset j − i", row=2, col=1)
    fig.update_yaxes(title_text="mean logit", row=2, col=1)
    sv = np.asarray(report.singular_values[layer, head], dtype=np.float64)
    er, sr = _stat(report, "effective_rank", layer, head), _stat(report, "stable_rank", layer, head)
    fig.add_trace(
        g.Scatter(x=np.arange(1, sv.size + 1), y=np.where(sv > 0, sv, np.nan), mode="lines+markers",
                  name=f"σ (effective rank {er:.1f}, stable rank {sr:.1f})", line={"color": _GREY}, marker={"size": 4}),
        row=2, col=2,
    )
    fig.update_xaxes(title_text="index", row=2, col=2)
    fig.update_yaxes(title_text="σ", type="log", row=2, col=2)
    fig.update_layout(
        title={"text": f"Attention-logit spectra · {report.scheme}", "x": 0.02}, width=1100, height=760,
        legend={"orientation": "h", "y": -0.12},
    )
    return fig
