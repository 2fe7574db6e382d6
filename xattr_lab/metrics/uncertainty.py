"""Uncertainty for per-scene benchmark figures: percentile bootstrap, paired differences, a saturation guard.

A leaderboard mean over a few dozen scenes can differ between methods by less than its own noise. These
helpers put a 95% interval on every mean and on every method-against-reference difference:

* :func:`bootstrap_ci`: the percentile bootstrap over scenes (Efron & Tibshirani 1993, ch. 13): resample
  the scenes with replacement ``n_boot`` times, take the mean of each resample, report the
  ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of those means. Seeded, so a table reprints
  identically.
* :func:`paired_difference`: the same bootstrap on per-scene differences ``a - b`` of two methods scored on
  the same scenes (pairing removes the scene-to-scene variance both share), plus the win rate: the share of
  scenes where ``a`` is better (ties count one half, so two identical methods get 0.5).
* :func:`saturation`: the guard that says when a benchmark cannot tell methods apart: random region orders
  already score high, or the best and worst real methods are close.

Only numpy is imported. NaN entries (a metric without ground truth on that scene) are left out, pairwise
for differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

N_BOOT = 2000  # resamples: enough for stable 2.5% / 97.5% quantiles (Efron & Tibshirani suggest >= 1000)
LEVEL = 0.95
RANDOM_CEILING = 0.6  # random's insertion AUC above this: the task is too easy to rank methods
MIN_SPREAD = 0.1  # best minus worst non-random insertion AUC below this: methods indistinguishable


@dataclass(frozen=True)
class Estimate:
    """A mean with its percentile-bootstrap interval.

    Attributes:
        mean: the mean over the finite values (NaN when there are none).
        low: lower bound of the interval.
        high: upper bound of the interval.
        n: how many finite values went in.
        level: the interval's coverage, e.g. 0.95.
    """

    mean: float
    low: float
    high: float
    n: int
    level: float = LEVEL


@dataclass(frozen=True)
class PairedDifference:
    """The per-scene difference ``a - b`` of two methods, its interval and how often ``a`` wins.

    Attributes:
        mean: mean of ``a - b`` over scenes where both are finite.
        low: lower bound of the bootstrap interval of that mean.
        high: upper bound.
        win_rate: share of those scenes where ``a`` is better than ``b`` (ties count one half); "better" is
            higher unless the comparison was made with ``higher_is_better=False``.
        n: number of paired scenes.
        level: the interval's coverage.
    """

    mean: float
    low: float
    high: float
    win_rate: float
    n: int
    level: float = LEVEL


@dataclass(frozen=True)
class Saturation:
    """What the saturation guard measured and the warnings it raised (empty when none fired).

    Attributes:
        random_insertion: the random baseline's mean insertion AUC (NaN when it was not run).
        best: the best non-random method and its mean insertion AUC (None when there is none).
        worst: the worst non-random method and its mean insertion AUC.
        spread: best minus worst (NaN with fewer than two non-random methods).
        warnings: one sentence per fired check, with the numbers.
    """

    random_insertion: float
    best: tuple[str, float] | None
    worst: tuple[str, float] | None
    spread: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _finite(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of per-scene values, got shape {arr.shape}")
    return arr


def _check(n_boot: int, level: float, seed: int) -> None:
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or n_boot < 1:
        raise ValueError(f"n_boot: expected a positive int, got {n_boot!r}")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level: expected a coverage strictly between 0 and 1, got {level!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")


def _interval(values: np.ndarray, n_boot: int, level: float, seed: int) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values`` (all finite, at least one)."""
    if values.size == 1:
        return float(values[0]), float(values[0])  # nothing to resample: the interval is the point
    rng = np.random.default_rng(seed)
    # Resample in chunks so that n_boot x n indices never take more than ~8 MB.
    chunk = max(1, 1_000_000 // values.size)
    means = np.concatenate(
        [values[rng.integers(0, values.size, size=(min(chunk, n_boot - s), values.size))].mean(axis=1)
         for s in range(0, n_boot, chunk)]
    )  # fmt: skip
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, *, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> Estimate:
    """The mean of per-scene values with its percentile-bootstrap interval.

    Args:
        values: one value per scene; NaN entries are left out.
        n_boot: number of resamples.
        level: coverage of the interval (0.95 for a 95% interval).
        seed: seed of the resampling (the same seed gives the same interval).

    Returns:
        The Estimate; all NaN with ``n == 0`` when no value is finite, a zero-width interval for one value.

    Raises:
        ValueError: for values that are not 1-D, a non-positive ``n_boot``, a ``level`` outside (0, 1) or a
            negative seed.
    """
    _check(n_boot, level, seed)
    arr = _finite(values, "values")
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, 0, float(level))
    low, high = _interval(arr, n_boot, float(level), seed)
    return Estimate(float(arr.mean()), low, high, int(arr.size), float(level))


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    higher_is_better: bool = True,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
) -> PairedDifference:
    """Mean per-scene difference ``a - b``, its bootstrap interval and ``a``'s win rate.

    Args:
        a: one value per scene for the method under test.
        b: the reference method's values on the same scenes, in the same order.
        higher_is_better: False for metrics where lower wins (deletion AUC); it flips only the win rate,
            the difference stays ``a - b``.
        n_boot: number of resamples.
        level: coverage of the interval.
        seed: seed of the resampling.

    Returns:
        The PairedDifference over the scenes where both values are finite (all NaN, ``n == 0``, if none).

    Raises:
        ValueError: when ``a`` and ``b`` differ in length or are not 1-D, or for bad ``n_boot`` / ``level`` /
            ``seed``.
    """
    _check(n_boot, level, seed)
    xa, xb = _finite(a, "a"), _finite(b, "b")
    if xa.shape != xb.shape:
        raise ValueError(f"a, b: expected the same scenes in both, got {xa.size} and {xb.size} values")
    keep = np.isfinite(xa) & np.isfinite(xb)
    diff = xa[keep] - xb[keep]
    if diff.size == 0:
        nan = float("nan")
        return PairedDifference(nan, nan, nan, nan, 0, float(level))
    better = diff > 0 if higher_is_better else diff < 0
    win = (better.sum() + 0.5 * (diff == 0).sum()) / diff.size
    low, high = _interval(diff, n_boot, float(level), seed)
    return PairedDifference(float(diff.mean()), low, high, float(win), int(diff.size), float(level))


def saturation(
    insertion: Mapping[str, float],
    *,
    random: str = "random",
    random_ceiling: float = RANDOM_CEILING,
    min_spread: float = MIN_SPREAD,
) -> Saturation:
    """Check whether a leaderboard can tell methods apart, from each method's mean insertion AUC.

    Two checks, each a warning sentence with its numbers when it fires: the random baseline's insertion AUC
    is above ``random_ceiling`` (removing regions in any order keeps the answer: the task is too easy for
    insertion to rank anything), and the best and worst non-random methods are less than ``min_spread``
    apart. NaN means (a method that failed everywhere) are left out.

    Args:
        insertion: method name -> mean insertion AUC.
        random: the name of the random baseline in ``insertion``.
        random_ceiling: the first check's threshold.
        min_spread: the second check's threshold.

    Returns:
        The Saturation with the figures and the fired warnings.

    Raises:
        TypeError: when ``insertion`` is not a mapping.
    """
    if not isinstance(insertion, Mapping):
        kind = type(insertion).__name__
        raise TypeError(f"insertion: expected a mapping of method -> mean insertion AUC, got {kind}")
    finite = {m: float(v) for m, v in insertion.items() if np.isfinite(float(v))}
    rnd = finite.get(random, float("nan"))
    others = {m: v for m, v in finite.items() if m != random}
    warnings: list[str] = []
    if np.isfinite(rnd) and rnd > random_ceiling:
        warnings.append(
            f"saturated: random region orders reach insertion AUC {rnd:.3f} (> {random_ceiling:g}); "
            "the answer survives almost any half of the image, so insertion AUC ranks methods poorly here"
        )
    best = worst = None
    spread = float("nan")
    if others:
        ranked = sorted(others.items(), key=lambda kv: kv[1])  # stable: tied methods keep their order
        worst, best = ranked[0], ranked[-1]
    if len(others) >= 2:
        spread = best[1] - worst[1]
        if spread < min_spread:
            warnings.append(
                f"saturated: the non-random methods span only {spread:.3f} insertion AUC (< {min_spread:g}): "
                f"best {best[0]} {best[1]:.3f}, worst {worst[0]} {worst[1]:.3f}"
            )
    return Saturation(rnd, best, worst, float(spread), tuple(warnings))


__all__ = [
    "LEVEL", "MIN_SPREAD", "N_BOOT", "RANDOM_CEILING", "Estimate", "PairedDifference", "Saturation",
    "bootstrap_ci", "paired_difference", "saturation",
]  # fmt: skip
