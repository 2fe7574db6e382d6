"""``load_run(out_dir) -> Run``: a finished (or running, or interrupted) run, read back.

:class:`Run` is plain data: the manifest and the results table (a pyarrow Table), with the leaderboard
(mean and 95% bootstrap interval per method per task, paired differences against a reference method with
their interval and win rate, from :mod:`xattr_lab.metrics.uncertainty`), drill-down into any saved
Explanation, and the failed rows. Its view lives in :mod:`xattr_lab.viz.run_view` (loaded only to display).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xattr_lab.runs.store import RunStore

if TYPE_CHECKING:
    from xattr_lab.results.explanation import Explanation

ALL_TASKS = "all"
VIEW_METRICS = ("insertion_auc", "deletion_auc", "pointing_mask", "pointing_box")
# columns a view's row list carries (the rest stays in the table)
VIEW_COLUMNS = ("key", "sample_id", "method", "task", "status", "error", "prompt", "answer", "generated",
                "correct", *VIEW_METRICS, "n_forward", "seconds", "result_path")  # fmt: skip


def _lower_is_better(metric: str) -> bool:
    return "deletion" in metric


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _mean(values: list[float]) -> float:
    """The mean of the finite values, NaN when none is (as :func:`~xattr_lab.metrics.uncertainty.bootstrap_ci`)."""
    import numpy as np

    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else math.nan


@dataclass(frozen=True, eq=False)
class Run:
    """A run directory's contents.

    Attributes:
        path: the run directory.
        manifest: the manifest (``config``, ``fingerprint``, ``versions``, ``created``).
        table: the results table (pyarrow Table), one row per sample x method done or failed so far.
    """

    path: Path
    manifest: dict[str, Any]
    table: Any

    # -- plain data ------------------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The config the run was made with."""
        return dict(self.manifest.get("config", {}))

    @property
    def methods(self) -> list[str]:
        """The run's methods, in config order."""
        return list(self.config.get("methods", []))

    def rows(self) -> list[dict[str, Any]]:
        """The table as a list of dicts (fresh ones on each call: a caller may change them)."""
        return [self._fresh(r) for r in self._rows]

    @cached_property
    def _rows(self) -> tuple[dict[str, Any], ...]:
        # The table is immutable once loaded: convert it once (``to_pylist`` builds every cell anew, the
        # cost of each leaderboard, drill-down and view); read-only inside this class.
        return tuple(self.table.to_pylist())

    @cached_property
    def _nested(self) -> tuple[str, ...]:
        """Columns whose cells are containers (struct, list, map): copied deeply when handed out."""
        import pyarrow as pa

        return tuple(f.name for f in self.table.schema if pa.types.is_nested(f.type))

    def _fresh(self, row: dict[str, Any]) -> dict[str, Any]:
        """A copy of a cached row, as ``to_pylist`` would give it anew (scalars are immutable: shared)."""
        out = dict(row)
        for name in self._nested:
            out[name] = copy.deepcopy(out[name])
        return out

    def counts(self) -> dict[str, int]:
        """``total`` units of the run, ``ok``, ``error`` and ``missing`` (not run yet or cut off)."""
        statuses = self.table.column("status").to_pylist() if self.table.num_rows else []
        total = int(self.manifest.get("n_units", len(statuses)))
        ok, error = statuses.count("ok"), statuses.count("error")
        return {"total": total, "ok": ok, "error": error, "missing": max(total - ok - error, 0)}

    def failed(self) -> list[dict[str, Any]]:
        """The rows of units that raised (``status == "error"``), with their error text."""
        return [self._fresh(r) for r in self._rows if r.get("status") == "error"]

    def tasks(self) -> list[str]:
        """The tasks present in the table, in order of appearance (samples without a task have none)."""
        seen: dict[str, None] = {}
        for t in self.table.column("task").to_pylist() if self.table.num_rows else []:
            if t is not None:
                seen[str(t)] = None
        return list(seen)

    # -- leaderboard -----------------------------------------------------------------------------------------
    def leaderboard(
        self,
        task: str | None = None,
        metric: str = "insertion_auc",
        reference: str | None = "eagle",
        *,
        n_boot: int = 2000,
        seed: int = 0,
    ) -> list[dict[str, Any]]:
        """Mean ± 95% bootstrap interval of ``metric`` per method (and task), paired against ``reference``.

        Args:
            task: one task; ``"all"`` pools every sample; None gives the pooled block, then one per task.
            metric: a numeric column (``insertion_auc``, ``deletion_auc``, ``pointing_mask``, ...).
            reference: the method the others are paired against (on the samples both finished); no paired
                figures when it is None or not in the run.
            n_boot: bootstrap resamples.
            seed: bootstrap seed (the same seed reprints the same intervals).

        Returns:
            One dict per task x method: ``task``, ``method``, ``metric``, ``n``, ``mean``, ``low``, ``high``,
            and ``reference``, ``diff``, ``diff_low``, ``diff_high``, ``win_rate``, ``n_paired`` (None for the
            reference itself or without one). Win rate counts ties one half; for deletion metrics lower wins.

        Raises:
            ValueError: an unknown metric or task.
        """
        from xattr_lab.metrics.uncertainty import bootstrap_ci, paired_difference

        out = []
        for t, values in self._values(task, metric):
            ref = values.get(reference) if reference is not None else None
            for m in self.methods:
                est = bootstrap_ci(list(values[m].values()), n_boot=n_boot, seed=seed)
                entry: dict[str, Any] = {"task": t, "method": m, "metric": metric, "n": est.n, "mean": est.mean,
                                         "low": est.low, "high": est.high, "reference": None, "diff": None,
                                         "diff_low": None, "diff_high": None, "win_rate": None, "n_paired": None}
                if ref is not None and m != reference:
                    common = [s for s in values[m] if s in ref]
                    d = paired_difference([values[m][s] for s in common], [ref[s] for s in common],
                                          higher_is_better=not _lower_is_better(metric), n_boot=n_boot, seed=seed)
                    entry.update({"reference": reference, "diff": d.mean, "diff_low": d.low, "diff_high": d.high,
                                  "win_rate": d.win_rate, "n_paired": d.n})  # fmt: skip
                out.append(entry)
        return out

    def saturation(self, task: str = ALL_TASKS, random: str = "random") -> Any:
        """The saturation guard on the run's mean insertion AUCs (:func:`xattr_lab.metrics.uncertainty.saturation`).

        Returns:
            A Saturation: random's insertion AUC, best and worst methods, their spread, and the warnings.
        """
        from xattr_lab.metrics.uncertainty import saturation

        # Only the means: the leaderboard's (bootstrap_ci's: the mean of the finite values, NaN for none)
        # without its intervals and paired figures. A later block wins a method, as in the board's dict.
        blocks = self._values(task, "insertion_auc")
        means = {m: _mean(list(v.values())) for _, values in blocks for m, v in values.items()}
        return saturation(means, random=random)

    def _values(self, task: str | None, metric: str) -> list[tuple[str, dict[str, dict[Any, float]]]]:
        """Per task (``task``'s, or the pooled one then each), ``method -> {sample_id: value}`` of ok rows.

        Raises:
            ValueError: an unknown metric or task.
        """
        if metric not in self.table.column_names:
            numeric = [c for c in self.table.column_names if c in VIEW_METRICS or "auc" in c or "@" in c]
            raise ValueError(f"metric: {metric!r} is not a column of this run; e.g. {', '.join(numeric[:8])}")
        rows = [r for r in self._rows if r.get("status") == "ok"]
        present = self.tasks()
        if task is not None and task != ALL_TASKS and task not in present:
            raise ValueError(f"task: {task!r} is not in this run; tasks: {', '.join([ALL_TASKS, *present])}")
        tasks = [ALL_TASKS, *present] if task is None else [task]  # None: the pooled board, then each task
        out = []
        for t in tasks:
            in_task = rows if t == ALL_TASKS else [r for r in rows if r.get("task") is not None and str(r["task"]) == t]
            out.append((t, {m: {r["sample_id"]: _number(r.get(metric)) for r in in_task if r["method"] == m}
                            for m in self.methods}))  # fmt: skip
        return out

    # -- drill-down ------------------------------------------------------------------------------------------
    def explanation(self, sample_id: Any, method: str) -> Explanation:
        """The saved Explanation of one sample x method (it displays as the linked views).

        Raises:
            KeyError: no such unit in the run, or it failed (the message holds its error).
            xattr_lab.results._store.ResultFileError: the saved file is damaged (resume redoes it).
        """
        from xattr_lab.results.explanation import Explanation

        key = f"{sample_id}/{method}"
        for row in self._rows:
            if row.get("key") == key:
                if row.get("status") != "ok":
                    raise KeyError(f"{key} failed: {str(row.get('error') or '').splitlines()[0]}")
                return Explanation.load(RunStore(self.path).explanation_path(row))  # type: ignore[arg-type]
        raise KeyError(f"{key}: no such sample x method in this run (not run yet, or a wrong id)")

    # -- views -----------------------------------------------------------------------------------------------
    def to_view_data(self) -> dict[str, Any]:
        """What a run view draws, as plain data: counts, leaderboards per metric, and the rows.

        Returns:
            ``path``, ``fingerprint``, ``config``, ``methods``, ``tasks``, ``counts``, ``reference``,
            ``leaderboards`` (metric -> :meth:`leaderboard` rows, for the metrics the run has values of) and
            ``rows`` (dicts of :data:`VIEW_COLUMNS`; ``result_path`` relative to ``path``).
        """
        reference = "eagle" if "eagle" in self.methods else (self.methods[0] if self.methods else None)
        boards = {}
        for metric in VIEW_METRICS:
            if metric in self.table.column_names and any(
                math.isfinite(_number(v)) for v in self.table.column(metric).to_pylist()
            ):
                boards[metric] = self.leaderboard(None, metric, reference)
        rows = [{c: r.get(c) for c in VIEW_COLUMNS} for r in map(self._fresh, self._rows)]
        return {"path": str(self.path), "fingerprint": self.manifest.get("fingerprint"), "config": self.config,
                "methods": self.methods, "tasks": self.tasks(), "counts": self.counts(), "reference": reference,
                "leaderboards": boards, "rows": rows}  # fmt: skip

    def __repr__(self) -> str:
        c = self.counts()
        return (f"Run({self.path.name}: {len(self.methods)} methods, {c['ok']}/{c['total']} done, "
                f"{c['error']} failed, {c['missing']} missing)")  # fmt: skip

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            from xattr_lab.viz.run_view import run_bundle
        except (ImportError, AttributeError):
            return {"text/plain": repr(self)}
        return run_bundle(self)

    def widget(self) -> Any:
        """The run view as a live notebook widget: clicking any row opens its Explanation from the kernel."""
        from xattr_lab.viz.run_view import run_widget

        return run_widget(self)

    def export_html(self, path: str | os.PathLike) -> Path:
        """Write the run view as a self-contained HTML file (needs :mod:`xattr_lab.viz.run_view`).

        Raises:
            RuntimeError: when the run view is not available in this installation.
        """
        try:
            from xattr_lab.viz.run_view import export_html
        except (ImportError, AttributeError) as err:
            raise RuntimeError(f"export_html: the run view (xattr_lab.viz.run_view) is not available: {err}") from None
        out = export_html(self, path)
        return Path(out) if out is not None else Path(path)


def load_run(out_dir: str | os.PathLike) -> Run:
    """Read a run directory (finished, running or interrupted).

    Raises:
        ValueError: ``out_dir`` is not a run directory (no manifest).
    """
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir: expected a path, got {type(out_dir).__name__}")
    store = RunStore(out_dir)
    manifest = store.read_manifest()
    if manifest is None:
        raise ValueError(f"out_dir: {store.path} is not a run directory (no manifest.json)")
    return Run(store.path, manifest, store.read_table())


__all__ = ["Run", "load_run"]
