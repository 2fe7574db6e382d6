"""The Ray executor: one model replica per Ray actor, units streamed to whichever actor is idle.

Ray is an optional extra (``pip install 'xattr-lab[ray]'``); this module imports it only when a run
starts. The executor connects to an existing cluster (``address="ray://..."`` or ``"auto"``, e.g. after
``ray start --head``) or, with no address and no Ray already initialised, starts a small local one that it
shuts down again when the run ends.

Fault tolerance: each actor holds at most one unit at a time, so when an actor dies (its process killed,
its node lost) exactly one unit is in flight on it. That unit goes back to the front of the queue and a
fresh actor replaces the dead one; after ``max_retries`` deaths on the same unit it is recorded as an error
row and the run goes on. ``on_outcome`` is called in the driver, once per unit, whatever happens in the
workers: a unit's result file is written atomically by :func:`~xattr_lab.runs.work.run_unit`, so a retry
after a death overwrites a complete file at most, never duplicates a row.

Results equal the local executor's: everything random in a unit derives from the unit itself (its seeds),
never from which actor runs it or in which order.
"""

from __future__ import annotations

import logging
import math
import os
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from xattr_lab.runs.work import UnitOutcome, WorkUnit

_INSTALL_HINT = "the Ray executor needs Ray: pip install 'xattr-lab[ray]'"
# a local cluster's shared-memory object store: units carry one small image each, results stay on disk
_LOCAL_OBJECT_STORE_BYTES = 200 * 1024**2


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(_INSTALL_HINT) from err
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a ``host:port`` nobody listens at (``ray.init`` itself retries for minutes)."""
    import socket

    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        return  # "auto", "local" or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ConnectionError(
            f"address: no Ray cluster answers at {address!r} ({err}); start one with `ray start --head` "
            "or leave the address out to run on a local cluster"
        ) from None


def init_ray(address: str | None = None, num_cpus: int = 2, **options: Any) -> None:
    """Start a quiet local Ray cluster (``address`` None) or join one, as the executor does.

    Quiet: no usage-stats banner, no dashboard, no worker logs streamed into the user's terminal. A local
    cluster gets ``num_cpus`` and a 200 MB object store (units carry one small image; results stay on disk).
    Ray gives its node 30 s to register; on a machine so loaded that it misses that, the start is retried once.

    Raises:
        ConnectionError: ``address`` names no reachable cluster.
    """
    ray = _import_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR,
                              "configure_logging": True}  # fmt: skip
    if address is None:
        kwargs.update(num_cpus=num_cpus, object_store_memory=_LOCAL_OBJECT_STORE_BYTES)
    else:
        _check_reachable(address)
        kwargs["address"] = address
    kwargs.update(options)
    for attempt in (1, 2):
        try:
            ray.init(**kwargs)
            return
        except ConnectionError as err:
            raise ConnectionError(f"address: cannot reach a Ray cluster at {address!r} ({err})") from None
        except Exception as err:  # Ray raises a bare Exception when its node misses the start-up deadline
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(err):
                raise


class _Worker:
    """One model replica in one Ray actor process (wrapped with ``ray.remote`` at run time)."""

    def __init__(self, model_spec: Any, threads: int, hook: Callable[[WorkUnit], None] | None) -> None:
        import torch

        from xattr_lab.runs.work import load_worker_model

        torch.set_num_threads(max(1, threads))  # the actor's CPU share; Ray may also set OMP_NUM_THREADS
        self._model = load_worker_model(model_spec)
        self._hook = hook

    def pid(self) -> int:
        return os.getpid()

    def peak_rss_mb(self) -> float:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

    def run(self, unit: WorkUnit) -> UnitOutcome:
        from xattr_lab.runs.work import run_unit

        if self._hook is not None:
            self._hook(unit)
        return run_unit(self._model, unit)


class WorkerLostError(RuntimeError):
    """A unit's worker died (process killed, node lost) more often than the retries allow."""


def _error_outcome(unit: WorkUnit, message: str) -> UnitOutcome:
    """An error row for a unit no worker could finish, in the same schema as a sample's error row."""
    from xattr_lab.runs import work

    try:
        raise WorkerLostError(message)
    except WorkerLostError as err:  # raised and caught so the row's error text has run_unit's form
        return work._error_row(unit, err, 0.0)


class RayExecutor:
    """Runs units on Ray actors, one model replica per actor.

    Args:
        address: cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); None starts a local
            cluster unless Ray is already initialised in this process (then that one is used as is).
        num_workers: actors (model replicas); default: as many as the cluster's free CPUs (or GPUs, when
            ``num_gpus`` > 0) allow, at least 1, never more than there are units.
        num_cpus: CPUs reserved per actor (also its torch thread count).
        num_gpus: GPUs per actor (fractions share a GPU between replicas).
        max_retries: how many times a unit whose actor died is retried on a fresh actor before it is
            recorded as an error.
        init_options: extra keyword arguments for ``ray.init`` (e.g. ``runtime_env``).
        worker_hook: a picklable function called in the actor before each unit (fault-injection tests).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_workers: int | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        max_retries: int = 2,
        init_options: dict[str, Any] | None = None,
        worker_hook: Callable[[WorkUnit], None] | None = None,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise TypeError(f"address: expected a Ray address string or None, got {type(address).__name__}")
        if num_workers is not None and (isinstance(num_workers, bool) or not isinstance(num_workers, int)
                                        or num_workers < 1):  # fmt: skip
            raise ValueError(f"num_workers: expected a positive integer or None, got {num_workers!r}")
        for label, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{label}: expected a number >= 0, got {value!r}")
        if num_cpus == 0 and num_gpus == 0:
            raise ValueError("num_cpus, num_gpus: an actor needs some CPU or GPU, got 0 and 0")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries: expected an integer >= 0, got {max_retries!r}")
        self.address = address or None
        self.num_workers = num_workers
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.max_retries = max_retries
        self.init_options = dict(init_options or {})
        self.worker_hook = worker_hook
        self.stats: dict[str, int] = {}

    def __repr__(self) -> str:
        where = self.address or "local cluster"
        sizes = f"num_workers={self.num_workers}, num_cpus={self.num_cpus}, num_gpus={self.num_gpus}"
        return f"RayExecutor({where}, {sizes})"

    # -- cluster -------------------------------------------------------------------------------------------

    def _connect(self, ray: Any) -> bool:
        """Initialise Ray when needed; True when this call did (so the run must shut it down)."""
        if ray.is_initialized():
            return False
        want = self.num_cpus * (self.num_workers or 2)
        init_ray(self.address, num_cpus=max(2, math.ceil(want)), **self.init_options)
        return True

    def _n_workers(self, ray: Any, n_units: int) -> int:
        if self.num_workers is not None:
            return max(1, min(self.num_workers, n_units))
        free = ray.available_resources()
        fits = [int(free.get("CPU", 0) // self.num_cpus)] if self.num_cpus else []
        if self.num_gpus:
            fits.append(int(free.get("GPU", 0) // self.num_gpus))
        return max(1, min([*fits, n_units]))

    # -- the run ---------------------------------------------------------------------------------------------

    def map(
        self, units: Sequence[WorkUnit], model_spec: str | dict, on_outcome: Callable[[UnitOutcome], None]
    ) -> None:
        """Run every unit and call ``on_outcome`` once per unit, in the driver, in completion order.

        Args:
            units: the units to run (keys unique).
            model_spec: what each actor loads with :func:`~xattr_lab.runs.work.load_worker_model` (a
                registered model name or a local directory, or its dict form). A loaded model object
                cannot be shipped to other processes and is refused.
            on_outcome: called with each finished unit's outcome.

        Raises:
            TypeError: for a model object instead of a spec.
            RuntimeError: when the actors cannot load the model.
        """
        if not isinstance(model_spec, (str, dict)):
            raise TypeError(
                "model: the Ray executor loads one replica per worker, so it needs a model spec (a registered "
                f"name or a local directory, str or dict), not a {type(model_spec).__name__} object"
            )
        units = list(units)
        keys = [u.key for u in units]
        if len(set(keys)) != len(keys):
            raise ValueError("units: keys must be unique within a run")
        self.stats = {"units": len(units), "worker_deaths": 0, "retries": 0, "actors_started": 0}
        if not units:
            return
        ray = _import_ray()
        started = self._connect(ray)
        actors: list[Any] = []
        try:
            self._stream(ray, units, model_spec, on_outcome, actors)
            self._record_memory(ray, actors)
        finally:
            for actor in actors:
                try:
                    ray.kill(actor)
                except Exception:  # noqa: BLE001 - already dead or cluster gone: nothing left to free
                    pass
            if started:
                ray.shutdown()

    def _record_memory(self, ray: Any, actors: list[Any]) -> None:
        """Peak resident memory of each live actor (MB) into ``stats``; best effort, never fails a run."""
        try:
            peaks = ray.get([a.peak_rss_mb.remote() for a in actors], timeout=10)
        except Exception:  # noqa: BLE001 - a dying actor or a gone cluster: no figure, no error
            return
        self.stats["worker_peak_rss_mb"] = [round(p, 1) for p in peaks]  # type: ignore[assignment]

    def _spawn(self, ray: Any, remote_cls: Any, model_spec: Any, actors: list[Any]) -> Any:
        threads = max(1, int(self.num_cpus))
        actor = remote_cls.remote(model_spec, threads, self.worker_hook)
        actors.append(actor)
        self.stats["actors_started"] += 1
        return actor

    def _stream(
        self,
        ray: Any,
        units: list[WorkUnit],
        model_spec: Any,
        on_outcome: Callable[[UnitOutcome], None],
        actors: list[Any],
    ) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        # max_restarts=0: a dead actor stays dead; we replace it ourselves so we know which unit to redo
        remote_cls = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_restarts=0)(_Worker)
        pending = deque(units)
        deaths: dict[str, int] = {}
        done: set[str] = set()
        idle = [self._spawn(ray, remote_cls, model_spec, actors) for _ in range(self._n_workers(ray, len(units)))]
        in_flight: dict[Any, tuple[Any, WorkUnit]] = {}

        def deliver(unit: WorkUnit, outcome: UnitOutcome) -> None:
            if unit.key in done:  # cannot happen with one unit per actor; guards the exactly-once promise
                return
            if outcome.key != unit.key:
                raise RuntimeError(f"worker returned outcome {outcome.key!r} for unit {unit.key!r}")
            done.add(unit.key)
            on_outcome(outcome)

        while pending or in_flight:
            while idle and pending:
                actor, unit = idle.pop(), pending.popleft()
                in_flight[actor.run.remote(unit)] = (actor, unit)
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                actor, unit = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except RayActorError as err:
                    if getattr(err, "actor_init_failed", False):
                        raise RuntimeError(f"model: the Ray workers could not load {model_spec!r}: {err}") from None
                    self.stats["worker_deaths"] += 1
                    actors.remove(actor)
                    try:
                        ray.kill(actor)
                    except Exception:  # noqa: BLE001 - it is dead already
                        pass
                    deaths[unit.key] = deaths.get(unit.key, 0) + 1
                    if deaths[unit.key] > self.max_retries:
                        last = str(err).splitlines()[0] if str(err) else type(err).__name__
                        msg = f"worker died {deaths[unit.key]} times running this unit (last: {last})"
                        deliver(unit, _error_outcome(unit, msg))
                    else:
                        self.stats["retries"] += 1
                        pending.appendleft(unit)
                    idle.append(self._spawn(ray, remote_cls, model_spec, actors))
                    continue
                except RayTaskError as err:
                    # run_unit records sample errors itself; this is an error outside it (e.g. the hook)
                    idle.append(actor)
                    cause = err.cause if isinstance(getattr(err, "cause", None), BaseException) else err
                    deliver(unit, _error_outcome(unit, f"{type(cause).__name__}: {cause}"))
                    continue
                idle.append(actor)
                deliver(unit, outcome)
