"""Rank-biased overlap (RBO) of top-k rankings (Webber, Moffat & Zobel, 2010).

With ``X_d = |S_{:d} ∩ T_{:d}|`` the overlap of the first ``d`` items of two rankings and ``A_d = X_d / d`` their
agreement at depth ``d``, RBO is ``(1 − p) Σ_{d≥1} p^{d−1} A_d``. Top-k lists only show ``d ≤ k``, and two
forms of the paper are offered here under their names:

* :func:`rbo_truncated`: the sum stopped at depth ``k``, ``(1 − p) Σ_{d=1..k} p^{d−1} A_d`` (the
  prefix of the paper's infinite sum; it treats agreement below depth ``k`` as 0, so identical lists give
  ``1 − p^k``). It is the form quoted for ARC (Liang et al., 2025). It is *not* Webber's ``RBO_min``, which
  instead assumes the seen overlap ``X_k`` persists without growing below depth ``k``.
* :func:`rbo_ext`: the extrapolated point estimate ``RBO_ext`` (Webber et al., Eq. 32, with both lists of
  length ``k``), ``(X_k / k) p^k + ((1 − p) / p) Σ_{d=1..k} (X_d / d) p^d``: agreement below depth ``k`` is
  assumed to stay at ``A_k``, so identical lists give exactly 1.

Both are 0 for disjoint lists. A ranking must not repeat an item (overlap would count it twice): such input
is refused. Only numpy is imported.
"""

from __future__ import annotations

import numpy as np


def _check(lists: np.ndarray, reference: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate the inputs; returns (lists [J, k], reference [k], whether ``lists`` was one ranking)."""
    lists, reference = np.asarray(lists), np.asarray(reference)
    single = lists.ndim == 1
    if lists.ndim not in (1, 2):
        raise ValueError(f"lists: expected one ranking [k] or rows of rankings [J, k], got shape {lists.shape}")
    if reference.ndim != 1 or reference.shape[0] == 0:
        raise ValueError(f"reference: expected one non-empty ranking [k], got shape {reference.shape}")
    lists = np.atleast_2d(lists)
    k = reference.shape[0]
    if lists.shape[1] != k:
        raise ValueError(f"lists: expected rankings of the reference's length {k}, got length {lists.shape[1]}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 < p < 1:
        raise ValueError(f"p: expected a persistence in (0, 1), got {p!r}")
    if len(np.unique(reference)) != k:
        raise ValueError("reference: a ranking must not repeat an item")
    if len(lists):
        ordered = np.sort(lists, axis=1)
        repeats = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if repeats.any():
            raise ValueError(f"lists: a ranking must not repeat an item (row {int(np.argmax(repeats))} does)")
    return lists, reference, single


def cumulative_overlap(lists: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``X_d = |S_{:d} ∩ T_{:d}|`` for ``d = 1..k``: int [J, k] for rows ``S`` of ``lists`` and ``T = reference``.

    Raises:
        ValueError: when the shapes differ or a ranking repeats an item.
    """
    lists, reference, _ = _check(lists, reference, 0.5)
    return _overlap(lists, reference)


def _overlap(lists: np.ndarray, reference: np.ndarray) -> np.ndarray:
    k = reference.shape[0]
    if len(lists) == 0:
        return np.zeros((0, k), dtype=np.int64)
    # items may be any sortable values (ids, strings): code them densely first
    _, codes = np.unique(np.concatenate([lists.ravel(), reference]), return_inverse=True)
    codes = codes.ravel()
    ref_rank = np.full(int(codes.max()) + 1, k, dtype=np.int64)  # k: absent from the reference
    ref_rank[codes[lists.size :]] = np.arange(k)
    rank_in_ref = ref_rank[codes[: lists.size].reshape(lists.shape)]
    # a shared item enters the overlap at depth max(rank in S, rank in T) + 1
    enters = np.where(rank_in_ref < k, np.maximum(np.arange(k)[None, :], rank_in_ref), k)
    counts = np.zeros((len(lists), k + 1), dtype=np.int64)
    np.add.at(counts, (np.arange(len(lists))[:, None], enters), 1)
    return np.cumsum(counts[:, :k], axis=1)


def _out(values: np.ndarray, single: bool) -> np.ndarray | float:
    return float(values[0]) if single else values


def rbo_truncated(lists: np.ndarray, reference: np.ndarray, p: float = 0.9) -> np.ndarray | float:
    """Truncated RBO: ``(1 − p) Σ_{d=1..k} p^{d−1} X_d / d``, in ``[0, 1 − p^k]``.

    Args:
        lists: one ranking [k] or rows of rankings [J, k] (best first, no repeated item).
        reference: the ranking [k] each is compared with.
        p: persistence in (0, 1); larger weighs deeper ranks more.

    Returns:
        A float for one ranking, else float [J].

    Raises:
        ValueError: on mismatched lengths, ``p`` outside (0, 1) or a repeated item.
    """
    lists, reference, single = _check(lists, reference, p)
    d = np.arange(1, reference.shape[0] + 1)
    overlap = _overlap(lists, reference)
    return _out((1 - p) * (overlap / d * p ** (d - 1)).sum(1), single)


def rbo_ext(lists: np.ndarray, reference: np.ndarray, p: float = 0.9) -> np.ndarray | float:
    """Extrapolated RBO (Webber et al., 2010, Eq. 32 with both lists of length ``k``), in [0, 1].

    ``RBO_ext = (X_k / k) p^k + ((1 − p) / p) Σ_{d=1..k} (X_d / d) p^d``.

    Args:
        lists: one ranking [k] or rows of rankings [J, k] (best first, no repeated item).
        reference: the ranking [k] each is compared with.
        p: persistence in (0, 1).

    Returns:
        A float for one ranking, else float [J].

    Raises:
        ValueError: on mismatched lengths, ``p`` outside (0, 1) or a repeated item.
    """
    lists, reference, single = _check(lists, reference, p)
    k = reference.shape[0]
    d = np.arange(1, k + 1)
    overlap = _overlap(lists, reference)
    tail = overlap[:, -1] / k * p**k
    return _out(tail + (1 - p) / p * (overlap / d * p**d).sum(1), single)


RBO_FORMS = {"truncated": rbo_truncated, "ext": rbo_ext}

__all__ = ["RBO_FORMS", "cumulative_overlap", "rbo_ext", "rbo_truncated"]
