"""TrainingRun: the logged history of one training run (step array + named series), with save/load."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xattr_lab.results._store import ResultFileError, load_result, save_result


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """Metrics logged during training.

    Attributes:
        steps: (N,) optimiser steps at which metrics were logged.
        series: name → (N,) float array (NaN where a metric was not logged at that step).
        labels: name → human label (e.g. to keep hypersphere uniformity apart from weight-decay uniformity).
        events: name → step or None (e.g. ``"train_acc_100"``: first step at which train accuracy hit 1).
        config: the hyperparameters of the run.
        info: provenance (wall time, device, threads, versions, preset).
        extras: other arrays (final key-frequency counts, Fourier norms of the embedding …).
    """

    steps: np.ndarray
    series: dict[str, np.ndarray]
    labels: dict[str, str] = field(default_factory=dict)
    events: dict[str, int | None] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_history(cls, history: list[dict[str, float]], **kwargs: Any) -> TrainingRun:
        """Build from a list of ``{"step": s, name: value, …}`` records (missing names become NaN)."""
        if not isinstance(history, list):
            raise TypeError(f"history: expected a list of dicts, got {type(history).__name__}")
        names = sorted({k for rec in history for k in rec if k != "step"})
        steps = np.array([int(rec["step"]) for rec in history], dtype=np.int64)
        series = {n: np.array([float(rec.get(n, np.nan)) for rec in history]) for n in names}
        return cls(steps=steps, series=series, **kwargs)

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def final(self, name: str) -> float:
        """The last logged value of a series."""
        if name not in self.series:
            raise KeyError(f"name: no series {name!r}; have {sorted(self.series)}")
        v = self.series[name]
        finite = v[np.isfinite(v)]
        return float(finite[-1]) if finite.size else float("nan")

    def first_step(self, name: str, threshold: float, above: bool = True) -> int | None:
        """First logged step where ``series[name] >= threshold`` (or ``<=`` with ``above=False``)."""
        if name not in self.series:
            raise KeyError(f"name: no series {name!r}; have {sorted(self.series)}")
        v = self.series[name]
        hit = v >= threshold if above else v <= threshold
        idx = np.flatnonzero(hit & np.isfinite(v))
        return int(self.steps[idx[0]]) if idx.size else None

    def to_view_data(self) -> dict[str, Any]:
        """Plain arrays and metadata for the training-curves view."""
        return {
            "kind": "TrainingRun",
            "steps": self.steps,
            "series": dict(self.series),
            "names": sorted(self.series),
            "labels": {n: self.labels.get(n, n) for n in self.series},
            "events": dict(self.events),
            "config": dict(self.config),
            "info": dict(self.info),
        }

    def save(self, path: str | os.PathLike) -> os.PathLike:
        """Write as JSON + safetensors (see :mod:`xattr_lab.results._store`)."""
        arrays = {"steps": np.asarray(self.steps, np.int64)}
        arrays.update({f"series.{k}": np.asarray(v, np.float64) for k, v in self.series.items()})
        arrays.update({f"extras.{k}": np.asarray(v) for k, v in self.extras.items()})
        meta = {"labels": self.labels, "events": self.events, "config": self.config, "info": self.info}
        return save_result(path, "TrainingRun", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainingRun:
        """Read a run written by :meth:`save` (checksummed, shapes checked; never executes code).

        Raises:
            xattr_lab.results._store.ResultFileError: for a missing, truncated, tampered or inconsistent file.
        """
        _, meta, arrays = load_result(path, "TrainingRun")
        return cls._from_loaded(path, meta, arrays)

    @classmethod
    def _from_loaded(cls, path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> TrainingRun:
        """Rebuild from what ``load_result`` read and verified (``xattr_lab.load`` calls it after one parse)."""
        try:
            return _run_from_store(cls, meta, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ResultFileError(f"path: {path} holds a TrainingRun that fails its checks: {err}") from None

    def __repr__(self) -> str:
        last = int(self.steps[-1]) if len(self) else 0
        parts = [f"{len(self)} points to step {last}"]
        for name in ("train_acc", "test_acc"):
            if name in self.series:
                parts.append(f"{name}={self.final(name):.3f}")
        return f"TrainingRun({', '.join(parts)})"

    def figure(self, cols: int = 2) -> Any:
        """The curves as plotly subplots by quantity, coloured as in the views, with numbered events.

        ``fig.write_html(path, include_plotlyjs=True)`` writes it as one HTML file that opens offline.
        """
        from xattr_lab.viz.figures.training import training_figure  # lazy: plotly on demand

        return training_figure(self, cols=cols)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.bundle import result_bundle
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}
        return result_bundle(self)


def _run_from_store(cls: type[TrainingRun], meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> TrainingRun:
    """Rebuild a run, checking that every series has one value per logged step."""
    from xattr_lab.results import _checks as c

    steps = c.array(arrays, "steps", "iu", ndim=1)
    series = {k[7:]: v for k, v in arrays.items() if k.startswith("series.")}
    for name in series:
        c.shape(c.array(arrays, f"series.{name}", "f"), steps.shape, f"series.{name}")
    labels = c.field(meta, "labels", dict)
    if not all(isinstance(v, str) for v in labels.values()):
        raise ValueError("the entry 'labels' must map names to strings")
    events = c.field(meta, "events", dict)
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in events.values()):
        raise ValueError("the entry 'events' must map names to steps (integers) or null")
    return cls(
        steps=steps,
        series=series,
        extras={k[7:]: v for k, v in arrays.items() if k.startswith("extras.")},
        labels=labels,
        events=events,
        config=c.field(meta, "config", dict),
        info=c.field(meta, "info", dict),
    )
