"""Executors: who runs a run's work units. ``local`` (embedded, in-process, the default) or ``ray``.

An executor maps units to outcomes and hands every outcome to ``on_outcome`` *in the driver process*, where
the store appends the row: the driver is the only writer of the results table, whatever runs the units.
Ray is optional and imported only when asked for (``pip install 'xattr-lab[ray]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from xattr_lab.runs.work import UnitOutcome, WorkUnit, load_worker_model, run_units

EXECUTORS = ("local", "ray")
RAY_HINT = "pip install 'xattr-lab[ray]'"


@runtime_checkable
class Executor(Protocol):
    """Runs work units and reports each outcome once, in the driver process."""

    def map(
        self,
        units: Sequence[WorkUnit],
        model_spec: Any,
        on_outcome: Callable[[UnitOutcome], None],
    ) -> None:
        """Run ``units`` with a model loaded from ``model_spec``; call ``on_outcome`` once per finished unit.

        Args:
            units: the units still to do.
            model_spec: a model name or directory (str), a dict ``{"spec": ..., **options}``, or (local
                executor only) an already loaded ScoringModel.
            on_outcome: called in the driver process with each outcome, exactly once per unit.
        """
        ...


class LocalExecutor:
    """In-process executor: one model, units batched by sample (one generation per sample, all its methods).

    Args:
        batch_samples: how many samples one :func:`run_units` call takes. Outcomes are reported after each
            batch, so a small batch loses little to a kill; one sample per batch already shares its
            generation across methods.
    """

    def __init__(self, batch_samples: int = 1) -> None:
        if isinstance(batch_samples, bool) or not isinstance(batch_samples, int) or batch_samples < 1:
            raise ValueError(f"batch_samples: expected a positive int, got {batch_samples!r}")
        self.batch_samples = batch_samples

    def map(
        self,
        units: Sequence[WorkUnit],
        model_spec: Any,
        on_outcome: Callable[[UnitOutcome], None],
    ) -> None:
        """Run the units here, in order, reporting each outcome as soon as its batch is done."""
        if not units:
            return
        model = model_spec if callable(getattr(model_spec, "score", None)) else load_worker_model(model_spec)
        for batch in _sample_batches(units, self.batch_samples):
            for outcome in run_units(model, batch):
                on_outcome(outcome)


def _sample_batches(units: Sequence[WorkUnit], batch_samples: int) -> list[list[WorkUnit]]:
    """Consecutive groups of units covering ``batch_samples`` samples each (a sample's units stay together)."""
    order: dict[str, list[WorkUnit]] = {}
    for unit in units:
        order.setdefault(unit.sample_id, []).append(unit)
    groups = list(order.values())
    return [sum(groups[i : i + batch_samples], []) for i in range(0, len(groups), batch_samples)]


def get_executor(name: str = "local", **options: Any) -> Executor:
    """The executor called ``name``.

    Args:
        name: ``"local"`` or ``"ray"``.
        **options: the executor's options (local: ``batch_samples``; ray: ``address``, ``num_workers``,
            ``num_cpus``, ``num_gpus``, ``max_retries``).

    Returns:
        The executor.

    Raises:
        ValueError: an unknown name, or options the executor does not take.
        ImportError: ``"ray"`` when Ray is not installed (with the install command).
    """
    if not isinstance(name, str) or name not in EXECUTORS:
        raise ValueError(f"executor: expected one of {', '.join(EXECUTORS)}, got {name!r}")
    if name == "local":
        unknown = set(options) - {"batch_samples"}
        if unknown:
            raise ValueError(f"executor_options: the local executor takes only batch_samples, got {sorted(unknown)}")
        return LocalExecutor(**options)
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ImportError(f"executor: 'ray' needs Ray, which is not installed: {RAY_HINT}") from None
    from xattr_lab.runs.ray_executor import RayExecutor

    return RayExecutor(**options)


__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "get_executor"]
