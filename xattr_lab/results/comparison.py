"""The Comparison result: several methods' Explanations of the same tokens, and their scores side by side.

Plain data: a frozen dataclass of Explanations and a table of JSON-able rows. Rendering is imported from
``xattr_lab.viz`` only when a notebook displays it; saving goes through ``xattr_lab.results._store``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xattr_lab.results.explanation import Explanation, _from_store, _to_store

KIND = "Comparison"
COLUMNS = (
    "method",
    "insertion_auc",
    "deletion_auc",
    "pointing_game",
    "forwards",
    "seconds",
    "peak_memory_mb",
    "partial",
    "error",
)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Methods compared on one generation, one set of regions and one metric path.

    Attributes:
        explanations: one Explanation per method, in table order.
        rows: one row per method with ``COLUMNS`` (``pointing_game`` is NaN without ground truth;
            ``forwards`` is the Explanation's ``cost["n_forward"]``: images scored, including each method's
            own forwards and the metric curves (the same figure the CLI, the views and the demo show);
            ``partial`` is True for a row cut short by Ctrl-C: not rescored, NaN where not measured;
            ``error`` is None, or ``"TypeName: message"`` for a method that raised, whose row has NaN scores
            and no Explanation, or whose rescoring raised, prefixed ``"rescoring: "``).
        info: provenance (model, regions, tokens, how memory was measured; ``interrupted`` and ``not_run``
            after a Ctrl-C; ``errors``: method → error text of each failed method).
    """

    explanations: tuple[Explanation, ...]
    rows: tuple[dict[str, Any], ...]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Whether Ctrl-C cut the comparison short (a partial row, or methods not run)."""
        return any(bool(r.get("partial")) for r in self.rows) or bool(self.info.get("not_run"))

    @property
    def methods(self) -> tuple[str, ...]:
        """The compared methods' names (failed ones included: see :attr:`errors`)."""
        return tuple(str(r["method"]) for r in self.rows)

    @property
    def errors(self) -> dict[str, str]:
        """Method → error text, for each method that raised instead of explaining (empty when all ran)."""
        return {str(r["method"]): str(r["error"]) for r in self.rows if r.get("error")}

    def __getitem__(self, method: str) -> Explanation:
        """The Explanation of ``method``."""
        for e in self.explanations:
            if e.method == method:
                return e
        raise KeyError(f"method: {method!r} is not in this comparison ({', '.join(self.methods)})")

    def table(self, figure: bool = False) -> Any:
        """The table as a list of plain dicts; with ``figure=True`` also a plotly table figure.

        Returns:
            ``rows`` or ``(rows, plotly.graph_objects.Figure)``.
        """
        rows = [dict(r) for r in self.rows]
        if not figure:
            return rows
        import plotly.graph_objects as go

        def fmt(v: Any) -> str:
            return f"{v:.3f}" if isinstance(v, float) else "" if v is None else str(v)

        cells = [[fmt(r.get(c)) for r in rows] for c in COLUMNS]
        fig = go.Figure(go.Table(header={"values": list(COLUMNS)}, cells={"values": cells}))
        return rows, fig

    def __repr__(self) -> str:
        best = max(self.rows, key=lambda r: _num(r.get("insertion_auc")), default=None)
        lead = f", best insertion: {best['method']} {_num(best['insertion_auc']):.3f}" if best else ""
        tokens = " ".join(self.explanations[0].target_tokens) if self.explanations else ""
        if len(tokens) > 30:
            tokens = tokens[:27] + "..."
        cut = ", partial" if self.partial else ""
        failed = f", {len(self.errors)} failed" if self.errors else ""
        return f"Comparison({len(self.rows)} methods, tokens={tokens!r}{lead}{failed}{cut})"

    def figure(self, shared_scale: bool = False, cols: int | None = None) -> Any:
        """A plotly grid of every method's map, each on its own colour scale (or ``shared_scale``), with its metrics.

        ``fig.write_html(path, include_plotlyjs=True)`` writes it as one HTML file that opens offline.
        """
        from xattr_lab.viz.figures.comparison import comparison_figure  # lazy: plotly on demand

        return comparison_figure(self, shared_scale=shared_scale, cols=cols)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.bundle import result_bundle

            return result_bundle(self)
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}

    def export_html(self, path: str | os.PathLike) -> Path:
        """Write the comparison grid as one self-contained HTML page (no network needed to view it).

        Methods that failed have no map; they are left out of the grid and named in the page's summary.

        Raises:
            RuntimeError: when the HTML views are not available in this installation.
            ValueError: when ``path`` does not end in ``.html`` / ``.htm``.
        """
        try:
            from xattr_lab.viz.html import export_html
        except (ImportError, AttributeError) as err:
            raise RuntimeError(f"export_html: the HTML views (xattr_lab.viz.html) are not available: {err}") from None
        out = export_html(self, path)
        return Path(out) if out is not None else Path(path)

    def to_view_data(self) -> dict[str, Any]:
        """What the comparison grid draws: maps, region scores, the table and the token strip's tokens.

        Returns:
            A dict with ``methods``, ``image``, ``labels``, ``region_scores`` [M, N], ``pixel_maps``
            [M, H, W], ``metrics`` (method → {column: value}), ``higher_is_better``, ``tokens`` (generated),
            ``prompt_tokens``, ``targets`` (explained positions in ``tokens``).
        """
        if not self.explanations:
            return {"methods": []}
        first = self.explanations[0]
        gen = first.generation
        # one column per Explanation: a failed method has no map to draw (its row keeps the error)
        shown = [e.method for e in self.explanations]
        by_method = {str(r["method"]): r for r in self.rows}
        metrics = {
            m: {k: _num(v) for k, v in by_method.get(m, {}).items() if k != "method" and _is_num(v)} for m in shown
        }
        return {
            "methods": shown,
            "image": np.asarray(gen.image, dtype=np.uint8),
            "labels": first.regions.labels.astype(np.int32),
            "region_scores": np.stack([e.region_scores for e in self.explanations]).astype(np.float32),
            "pixel_maps": np.stack([e.pixel_map for e in self.explanations]).astype(np.float32),
            "metrics": metrics,
            "higher_is_better": {"pointing_game": True, "forwards": False, "peak_memory_mb": False},
            "tokens": list(gen.generated_tokens),
            "prompt_tokens": list(gen.prompt_tokens),
            "targets": list(first.positions),
        }

    # -- save / load -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as JSON + safetensors (no pickle); read back with ``xattr_lab.load(path)``."""
        from xattr_lab.results._store import save_result

        metas, arrays = [], {}
        for i, e in enumerate(self.explanations):
            meta, arrs = _to_store(e)
            metas.append(meta)
            arrays.update({f"{i}/{k}": v for k, v in arrs.items()})
        return save_result(path, KIND, {"rows": list(self.rows), "info": self.info, "explanations": metas}, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Comparison:
        """Load a comparison saved with :meth:`save`.

        Raises:
            xattr_lab.results._store.ResultFileError: for a missing, truncated, tampered or inconsistent file.
        """
        from xattr_lab.results._store import load_result

        _, meta, arrays = load_result(path, KIND)
        return cls._from_loaded(path, meta, arrays)

    @classmethod
    def _from_loaded(cls, path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Comparison:
        """Rebuild from what ``load_result`` read and verified (``xattr_lab.load`` calls it after one parse)."""
        from xattr_lab.results._store import ResultFileError

        try:
            return _comparison_from_store(cls, meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ResultFileError(f"path: {path} holds a Comparison that fails its checks: {err}") from None


def _comparison_from_store(cls: type[Comparison], meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Comparison:
    """Rebuild a Comparison; each Explanation is checked like a saved Explanation."""
    from xattr_lab.results import _checks as c

    rows = c.field(meta, "rows", list)
    if not all(isinstance(r, dict) and isinstance(r.get("method"), str) for r in rows):
        raise ValueError("the entry 'rows' must be a list of objects with a string 'method'")
    explanations = []
    for i, m in enumerate(c.field(meta, "explanations", list)):
        if not isinstance(m, dict):
            raise ValueError(f"explanation {i} is not a JSON object")
        prefix = f"{i}/"
        try:
            explanations.append(
                _from_store(m, {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
            )
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ValueError(f"explanation {i}: {err}") from None
    return cls(tuple(explanations), tuple(dict(r) for r in rows), dict(c.field(meta, "info", dict)))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def _num(v: Any) -> float:
    return float(v) if _is_num(v) else float("nan")
