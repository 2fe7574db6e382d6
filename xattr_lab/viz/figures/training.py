"""plotly figure of a :class:`~xattr_lab.results.training.TrainingRun`: one subplot per quantity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xattr_lab.viz.figures._common import go, log_ticks, subplots
from xattr_lab.viz.training_view import default_panels, series_colour


def _event_rows(fractions: list[float], min_gap: float = 0.06) -> list[int]:
    """Stagger numbered labels into rows so that two labels in one row are at least ``min_gap`` apart."""
    ends: list[float] = []
    rows = []
    for f in fractions:
        row = next((i for i, end in enumerate(ends) if f - end >= min_gap), len(ends))
        if row == len(ends):
            ends.append(f)
        ends[row] = f
        rows.append(row)
    return rows


def _short(run: Any, name: str, limit: int = 28) -> str:
    """The legend entry: the series' label when short, else its name (the label is in the hover text)."""
    label = run.labels.get(name, name)
    return label if len(label) <= limit else name


def training_figure(run: Any, panels: list[dict[str, Any]] | None = None, cols: int = 2) -> Any:
    """Training curves as subplots by quantity, a legend grouped by panel, and numbered event lines.

    The colours are the views' (one colour per series name); events at one step share a line, and their
    names are listed under the figure, so labels never overlap.

    Args:
        run: a TrainingRun.
        panels: ``[{"title", "names", "log_y"}, …]`` (default: one per quantity, as in the view).
        cols: subplots per row.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    names = sorted(run.series)
    panels = panels if panels is not None else default_panels(names)
    if not panels:
        raise ValueError("run: this TrainingRun has no series to draw")
    cols = max(1, min(int(cols), len(panels)))
    rows = math.ceil(len(panels) / cols)
    fig = subplots(
        rows=rows, cols=cols, subplot_titles=[p["title"] for p in panels], horizontal_spacing=0.1,
        vertical_spacing=min(0.3, 0.3 / rows + 0.02),
    )
    steps = np.asarray(run.steps, dtype=np.float64)
    for i, p in enumerate(panels):
        r, c = divmod(i, cols)
        values = [np.asarray(run.series[n], dtype=np.float64) for n in p["names"] if n in run.series]
        log_y = bool(p.get("log_y")) and all(np.all(v[np.isfinite(v)] > 0) for v in values)
        for n in p["names"]:
            if n not in run.series:
                continue
            fig.add_trace(
                go().Scatter(
                    x=steps, y=np.asarray(run.series[n], dtype=np.float64), mode="lines", name=_short(run, n),
                    hovertemplate=f"{run.labels.get(n, n)}<br>step %{{x}}: %{{y:.4g}}<extra></extra>",
                    line={"color": series_colour(n), "width": 2}, legendgroup=p["title"],
                    legendgrouptitle_text=p["title"], connectgaps=True,
                ),
                row=r + 1, col=c + 1,
            )
        if log_y:  # our own round ticks: plotly labels narrow log ranges with bare minor digits
            finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
            ticks = log_ticks(float(finite.min()) / 1.1, float(finite.max()) * 1.1) if finite.size else []
            fig.update_yaxes(
                type="log", tickvals=ticks, ticktext=[f"{v:g}" for v in ticks], row=r + 1, col=c + 1
            )
        else:
            fig.update_yaxes(nticks=6, exponentformat="e", row=r + 1, col=c + 1)
        fig.update_xaxes(title_text="step" if r == rows - 1 else None, nticks=6, row=r + 1, col=c + 1)
    events = sorted(((int(s), k) for k, s in run.events.items() if s is not None), key=lambda e: (e[0], e[1]))
    if events and len(steps):
        lo, hi = float(np.nanmin(steps)), float(np.nanmax(steps))
        by_step: dict[int, list[int]] = {}
        for j, (s, _) in enumerate(events):
            by_step.setdefault(s, []).append(j + 1)
        marks = sorted(by_step.items())
        fractions = [(s - lo) / (hi - lo) if hi > lo else 0.5 for s, _ in marks]
        stagger = _event_rows(fractions)
        for i in range(len(panels)):
            r, c = divmod(i, cols)
            for (s, numbers), row in zip(marks, stagger):
                fig.add_vline(x=s, line={"dash": "dot", "width": 1, "color": "#888"}, row=r + 1, col=c + 1)
                # labels at the ends of the axis open inwards, so they stay inside the plot area
                frac = (s - lo) / (hi - lo) if hi > lo else 0.5
                anchor = "left" if frac < 0.04 else "right" if frac > 0.96 else "center"
                fig.add_annotation(
                    x=s, y=1, yref=f"y{'' if i == 0 else i + 1} domain", xref=f"x{'' if i == 0 else i + 1}",
                    text=",".join(map(str, numbers)), showarrow=False, yanchor="top", yshift=-2 - 14 * row,
                    xanchor=anchor,
                    font={"size": 10}, bgcolor="rgba(255,255,255,0.85)", bordercolor="#888", borderwidth=1, borderpad=1,
                )
        items = [f"<b>{j + 1}</b> {name} (step {s})" for j, (s, name) in enumerate(events)]
        listing = "<br>".join(" · ".join(items[k : k + 4]) for k in range(0, len(items), 4))
        fig.add_annotation(
            text=listing, xref="paper", yref="paper", x=0, y=0, yshift=-58, showarrow=False,
            xanchor="left", yanchor="top", align="left", font={"size": 11},
        )
    title = run.info.get("preset") or "training run"
    fig.update_layout(
        title={"text": f"{title} · {len(run)} points to step {int(steps[-1]) if len(steps) else 0}", "x": 0.02},
        width=520 * cols + 260, height=300 * rows + 140 + 18 * (len(events) + 3) // 4,
        margin={"b": 70 + 18 * ((len(events) + 3) // 4)}, legend={"groupclick": "toggleitem", "tracegroupgap": 8},
    )
    return fig
