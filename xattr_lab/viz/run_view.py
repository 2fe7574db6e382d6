"""The run view: leaderboards per task, a row per sample x method, drill-down into any row's Explanation.

Per task and metric, each method's mean with its 95% interval and its paired difference against the
reference method.

Built from ``Run.to_view_data()`` (see :mod:`xattr_lab.runs.result`). The same payload feeds the three paths:

* JupyterLab / exported HTML / no kernel: the MIME bundle embeds the view data of up to ``embed``
  explanations (the first samples, every method of each), so clicking those rows opens their linked views
  offline; any other row says which saved result file holds it and how to open it.
* A live notebook: :func:`run_widget` answers a click on any row from the kernel (the saved file is loaded
  and its explanation view sent back), with nothing embedded up front.

Every string in the rows (prompts, answers, errors, ids) is untrusted text, rendered as text only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xattr_lab.viz._clean import clean
from xattr_lab.viz.payload import make_payload, to_json_ready

DEFAULT_EMBED = 12
DEFAULT_MAX_ROWS = 2000
_METRICS = ("insertion_auc", "deletion_auc", "pointing_mask", "pointing_box")
_SHOWN = ("sample_id", "method", "task", "status", *_METRICS, "n_forward", "seconds", "prompt", "generated", "error")
_ERROR_CHARS = 200  # the error column shows the first line; the full text stays in the table


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _boards(leaderboards: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One board per metric x task: the methods' means, intervals and paired differences."""
    out: list[dict[str, Any]] = []
    for metric, entries in leaderboards.items():
        by_task: dict[str, list[Mapping[str, Any]]] = {}
        for e in entries:
            by_task.setdefault(str(e.get("task")), []).append(e)
        for task, rows in by_task.items():
            ref = next((r.get("reference") for r in rows if r.get("reference")), None)
            board = {
                "task": task, "metric": str(metric), "better": "lower" if "deletion" in str(metric) else "higher",
                "reference": ref, "methods": [str(r.get("method")) for r in rows],
            }  # fmt: skip
            for src, dst in (("mean", "mean"), ("low", "lo"), ("high", "hi"), ("n", "n"), ("diff", "diff"),
                             ("diff_low", "diff_lo"), ("diff_high", "diff_hi"), ("win_rate", "win_rate")):  # fmt: skip
                board[dst] = [r.get(src) for r in rows]
            out.append(board)
    return out


def _cell(column: str, value: Any) -> Any:
    if column == "error" and value:
        return str(value).strip().splitlines()[0][:_ERROR_CHARS]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The shown columns: metrics only when some row has a value, error only when some row failed."""
    cols = []
    for c in _SHOWN:
        if c in _METRICS and not any(_finite(r.get(c)) for r in rows):
            continue
        if c == "error" and not any(r.get("error") for r in rows):
            continue
        if c == "task" and not any(r.get("task") for r in rows):
            continue
        if any(c in r for r in rows):
            cols.append(c)
    return cols


def _absolute(base: str | None, rel: Any) -> str | None:
    if not rel:
        return None
    path = Path(str(rel))
    return str(path if path.is_absolute() or base is None else Path(base) / path)


def run_payload(
    data: Mapping[str, Any],
    explanations: Mapping[str, Mapping[str, Any]] | None = None,
    live: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
    title: str | None = None,
) -> dict[str, Any]:
    """The payload of the ``run_board`` view.

    Args:
        data: ``Run.to_view_data()`` (``rows``, ``leaderboards``, ``counts``, ``path``, ...).
        explanations: key -> explanation view data (``explanation_payload(...)["data"]``) to embed.
        live: the view sits in a live widget that answers drill-down requests.
        max_rows: most rows sent to the browser (the table keeps them all; the view says how many it shows).
        title: title line; default from the run's path and counts.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("rows"), Sequence):
        raise TypeError("data: expected Run.to_view_data(), a dict with a 'rows' list")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows: expected a positive int, got {max_rows!r}")
    rows = [dict(r) for r in data["rows"]]
    shown = rows[:max_rows]
    columns = _columns(shown)
    base = data.get("path")
    out: dict[str, Any] = {
        "tasks": _boards(data.get("leaderboards") or {}),
        "columns": columns,
        "rows": [[_cell(c, r.get(c)) for c in columns] for r in shown],
        "row_keys": [str(r.get("key", f"{r.get('sample_id')}/{r.get('method')}")) for r in shown],
        "result_paths": [_absolute(base, r.get("result_path")) if r.get("status") == "ok" else None for r in shown],
        "n_rows_total": len(rows),
        "out_dir": str(base) if base else None,
        "live": bool(live),
        "summary": data.get("counts") or {},
    }
    if explanations:
        out["explanations"] = {str(k): v for k, v in explanations.items()}
    if title is None:
        c = data.get("counts") or {}
        name = Path(str(base)).name if base else "run"
        title = f"run {name}: {c.get('ok', '?')}/{c.get('total', '?')} done, {c.get('error', 0)} failed"
        title += f", {c['missing']} missing" if c.get("missing") else ""
    return make_payload("run_board", clean(out), title)


def _explanation_data(run: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    from xattr_lab.viz.bundle import result_payload

    payload = result_payload(run.explanation(row["sample_id"], row["method"]))
    if payload is None:  # pragma: no cover - an Explanation always has a view
        raise TypeError("explanation: no view")
    return payload["data"]


def embedded_explanations(run: Any, data: Mapping[str, Any], embed: int = DEFAULT_EMBED) -> dict[str, Any]:
    """View data of up to ``embed`` saved explanations: every method of the first samples, in row order.

    A file that cannot be read (damaged, removed) is skipped: its row then points at the file instead.
    """
    if isinstance(embed, bool) or not isinstance(embed, int) or embed < 0:
        raise ValueError(f"embed: expected an int >= 0, got {embed!r}")
    out: dict[str, Any] = {}
    for row in data["rows"]:
        if len(out) >= embed:
            break
        if row.get("status") != "ok":
            continue
        try:
            out[str(row["key"])] = _explanation_data(run, row)
        except (KeyError, OSError, ValueError):
            continue
    return out


def _summary(run: Any) -> str:
    return repr(run)


def run_view(run: Any, embed: int = DEFAULT_EMBED, max_rows: int = DEFAULT_MAX_ROWS) -> Any:
    """A displayable :class:`~xattr_lab.viz.view.View` of a run (offline drill-down into ``embed`` rows)."""
    from xattr_lab.viz.view import View

    data = run.to_view_data()
    payload = run_payload(data, embedded_explanations(run, data, embed), max_rows=max_rows)
    return View(payload, _summary(run))


def run_bundle(run: Any) -> dict[str, Any]:
    """The MIME bundle of a run (what ``Run._repr_mimebundle_`` returns)."""
    return run_view(run)._repr_mimebundle_()


def export_html(run: Any, path: str | os.PathLike, embed: int = DEFAULT_EMBED) -> Path:
    """Write the run view as one self-contained HTML page (no network, no kernel needed to open it)."""
    return run_view(run, embed=embed).export_html(path)


def run_widget(run: Any, max_rows: int = DEFAULT_MAX_ROWS) -> Any:
    """The run view as a live widget: clicking any row loads that sample's explanation from the kernel."""
    from xattr_lab.viz.widgets import XattrWidget

    data = run.to_view_data()
    rows = {str(r["key"]): r for r in data["rows"]}
    widget = XattrWidget(payload=run_payload(data, live=True, max_rows=max_rows))

    def on_msg(_widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, Mapping) or content.get("type") != "open":
            return
        key = str(content.get("key"))
        row = rows.get(key)
        try:
            if row is None:
                raise KeyError(f"{key}: not in this run")
            answer: dict[str, Any] = {"key": key, "data": to_json_ready(_explanation_data(run, row))}
        except Exception as err:  # noqa: BLE001 - shown in the view, the kernel keeps running
            answer = {"key": key, "error": f"{type(err).__name__}: {err}"}
        widget.emit("explanation", answer)

    widget.on_msg(on_msg)
    return widget


__all__ = ["embedded_explanations", "export_html", "run_bundle", "run_payload", "run_view", "run_widget"]
