"""Empirical spectral densities of weight matrices in WeightWatcher's sense (spec C), numpy only.

The ESD of W (N×M, N ≥ M after transposing) is λ = σ(W)² (not divided by N): M eigenvalues.

**Power law** (:func:`fit_power_law`). p(λ) ∝ λ^−α is fitted to the tail λ ≥ x_min; α is the maximum-likelihood
α = 1 + n / Σ ln(λ_i / x_min) and x_min the candidate that minimises the Kolmogorov–Smirnov distance. By default
these are WeightWatcher 0.7.7's own rules (``pl_package='ww'``), re-implemented from their definitions:

- eigenvalues ≤ 1e-5 (an absolute threshold) are dropped, every eigenvalue but the largest is a candidate x_min;
- D = max_i |F(λ_i) − i/n| over i = 0..n−1: the empirical CDF is read at the lower side of each step only
  (``ks="ww"``); ``ks="two-sided"`` takes the supremum over both sides of each step (Clauset et al.);
- with fewer than 20 eigenvalues WeightWatcher switches to a small-sample fit: the bias-corrected
  α = 1 + (n − 1) / Σ ln(λ_i / x_min) and tails of at least 8 (``small_n=False`` keeps the standard rule).
  Its code also scores each x_min by D − 0.868/√n, but its constructor then re-selects x_min by the smallest D;
  we reproduce what it returns (smallest D).

**Marchenko–Pastur bulk** (:func:`fit_mp_bulk`). The bulk edge is λ⁺ = σ²(√N + √M)², with σ² the entry variance of
the *random part* of W. The raw entry variance also holds the energy of the spikes and of a heavy tail (on the
ShapesVLM's MLP layers it puts λ⁺ at 2–7× WeightWatcher's fitted edge), so σ² is fitted: the σ² whose MP law is
closest to the ESD in Kolmogorov–Smirnov distance. A spike is an eigenvalue above the Tracy–Widom fluctuation band
of the fitted bulk. Differences from WeightWatcher, whose σ fit minimises the squared residual between a kernel
density estimate (linear kernel, bandwidth 0.1 on the ESD rescaled to mean 1, σ on a 1 % grid) and the MP density —
or, for square matrices, a quarter-circle law on the singular values:

- our fit needs no bandwidth or grid; on planted MP bulks with five spikes it recovers λ⁺ within 1 %
  (WeightWatcher: 6–8 % high on 1000×500 and 600×300, 2.3× on 256×256);
- on heavy-tailed *square* layers ours puts λ⁺ lower than WeightWatcher's quarter-circle fit (0.14–0.95× on
  the ShapesVLM's 22 square matrices), so it counts more spikes there (316 vs 179);
- WeightWatcher's spike threshold is λ⁺ + √TW with TW = Q^−½ λ⁺^⅔ M^−⅔ in rescaled units (``spike_margin="ww"``);
  ours is Johnstone's Tracy–Widom centring and scale at the 99.9 % quantile (``spike_margin="tw"``);
- the correlation-trap check shuffles W once and uses the shuffled matrix's exact MP edge (its entries are iid,
  so σ² is their variance); WeightWatcher fits σ to the shuffled ESD, with 5 shuffles below 100 eigenvalues.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

MIN_RELIABLE_EVALS = 50  # power-law fits on fewer eigenvalues are noisy (spec C)
ALPHA_SPURIOUS = 8.0
WW_MIN_EVALS = 8  # WeightWatcher's default min_evals (its docstring says 10; the code says 8)
EVALS_THRESH = 1e-5  # WeightWatcher drops eigenvalues at or below this before the power-law fit
SMALL_N_CUTOFF = 20  # WeightWatcher's small-sample power-law fit below this many eigenvalues
SMALL_N_MIN_TAIL = 8
# 99.9 % quantile of the Tracy–Widom (β = 1) law, from its Painlevé II form (0.95: 0.9793, 0.99: 2.0234): about one
# false spike in 1000 pure-noise matrices (the 99 % level flagged 2 of the ShapesVLM's 39 shuffled layers as traps).
TW1_Q999 = 3.2722
_FAILED = {"alpha": -1.0, "xmin": float("nan"), "D": float("nan"), "n_tail": 0, "sigma": float("nan")}


class DegenerateMatrixError(ValueError):
    """A weight matrix with NaN/inf entries or all zeros: it has no spectrum to analyse."""


def as_matrix(w, name: str = "W") -> np.ndarray:
    """A weight tensor as a finite, non-zero 2-D float64 matrix (conv kernels and per-head stacks are flattened).

    Raises:
        ValueError: fewer than 2 dims or no entries (naming ``name``).
        DegenerateMatrixError: non-finite entries or an all-zero matrix (a ValueError naming ``name``).
    """
    a = np.asarray(w.detach().cpu().double().numpy() if hasattr(w, "detach") else w, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"{name}: expected a tensor with >= 2 dims, got shape {a.shape}")
    if a.ndim == 3:  # (H, d_head, d) stacks such as Nanda's W_Q → (H·d_head, d)
        a = a.reshape(-1, a.shape[-1])
    else:
        a = a.reshape(a.shape[0], -1)  # conv (out, in, kh, kw) → (out, in·kh·kw)
    if a.size == 0:
        raise ValueError(f"{name}: empty matrix of shape {a.shape}")
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).sum())
        raise DegenerateMatrixError(f"{name}: {bad} non-finite entries (NaN/inf); it has no spectrum")
    if not np.any(a):
        raise DegenerateMatrixError(f"{name}: all entries are zero; it has no spectrum")
    return a


def esd(W: np.ndarray) -> np.ndarray:
    """Eigenvalues of WᵀW (the squared singular values), ascending: min(N, M) of them."""
    sv = np.linalg.svd(as_matrix(W), compute_uv=False)
    return np.sort(sv**2)


def fit_power_law(
    evals: np.ndarray, ks: str = "ww", small_n: bool = True, thresh: float = EVALS_THRESH, min_tail: int = 2
) -> dict[str, float | str]:
    """Fit p(λ) ∝ λ^−α to the tail of an ESD (WeightWatcher's rules by default; see the module docstring).

    Args:
        evals: eigenvalues (any order).
        ks: ``"ww"`` (D read at the lower side of each CDF step, as WeightWatcher) or ``"two-sided"``.
        small_n: use WeightWatcher's small-sample fit below 20 eigenvalues.
        thresh: drop eigenvalues ``<= thresh`` first (WeightWatcher: 1e-5).
        min_tail: smallest tail for a candidate x_min in the standard fit (WeightWatcher: 2).

    Returns:
        ``alpha``, ``xmin``, ``D`` (KS distance), ``n_tail``, ``sigma`` ((α−1)/√n_tail) and ``status``
        (``"success"``, or ``"failed"`` with α = −1 as WeightWatcher reports it).
    """
    if ks not in ("ww", "two-sided"):
        raise ValueError(f"ks: expected 'ww' or 'two-sided', got {ks!r}")
    lam = np.sort(np.asarray(evals, dtype=np.float64).ravel())
    lam = lam[np.isfinite(lam) & (lam > thresh)]
    n_all = lam.size
    if n_all < 2 or lam[0] == lam[-1]:
        return {**_FAILED, "status": "failed"}
    logs = np.log(lam)
    tail_log_sum = np.cumsum(logs[::-1])[::-1]  # Σ ln λ over each tail: every candidate is O(1) to score
    small = small_n and n_all < SMALL_N_CUTOFF
    best = (np.inf, -1.0, float("nan"), 0, np.inf)  # (D, alpha, xmin, n, D)
    for i in range(n_all - 1):
        n = n_all - i
        if n < (SMALL_N_MIN_TAIL if small else min_tail):
            break
        s = tail_log_sum[i] - n * logs[i]
        if s <= 1e-12:
            continue
        alpha = 1.0 + ((n - 1.0) if small else n) / s
        if alpha <= 1.0:
            continue
        D = _ks(lam[i:], lam[i], alpha, ks)
        if D < best[0]:
            best = (D, alpha, float(lam[i]), n, D)
    if not np.isfinite(best[0]) and small:
        # No tail of 8: WeightWatcher falls back to the whole ESD as the tail.
        s = tail_log_sum[0] - n_all * logs[0]
        alpha = 1.0 + (n_all - 1.0) / s
        if alpha > 1.0:
            best = (0.0, alpha, float(lam[0]), n_all, _ks(lam, lam[0], alpha, ks))
    _, alpha, xmin, n, D = best
    if not np.isfinite(D):
        return {**_FAILED, "status": "failed"}
    sigma = float((alpha - 1.0) / np.sqrt(n))
    return {"alpha": float(alpha), "xmin": xmin, "D": float(D), "n_tail": int(n), "sigma": sigma, "status": "success"}


def _ks(tail: np.ndarray, xmin: float, alpha: float, ks: str) -> float:
    n = tail.size
    model = 1.0 - (tail / xmin) ** (1.0 - alpha)
    lo = np.abs(model - np.arange(n) / n).max()
    if ks == "ww":
        return float(lo)
    return float(max(lo, np.abs(model - np.arange(1, n + 1) / n).max()))


@lru_cache(maxsize=64)
def _mp_unit_cdf(y: float, n: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """CDF of the MP law of (1/N)XᵀX, X N×M with unit-variance entries and y = M/N ≤ 1, on a grid of x.

    The substitution x = a + (b−a)(1 − cos θ)/2 removes the square-root edges, so a trapezoid rule in θ is exact
    to ~1e-7 with 4001 nodes, including y = 1 (density ∝ 1/√x at 0).
    """
    a, b = (1 - np.sqrt(y)) ** 2, (1 + np.sqrt(y)) ** 2
    th = np.linspace(0.0, np.pi, n)
    x = a + (b - a) * (1 - np.cos(th)) / 2
    # density · dx/dθ = ((b−a)²/4) sin²θ / (2π y x); at θ = 0 with a = 0 its limit is b/(2π y).
    with np.errstate(divide="ignore", invalid="ignore"):
        g = ((b - a) ** 2 / 4) * np.sin(th) ** 2 / (2 * np.pi * y * x)
    g[0] = b / (2 * np.pi * y) if a == 0 else 0.0
    F = np.concatenate([[0.0], np.cumsum((g[1:] + g[:-1]) / 2 * np.diff(th))])
    return x, F / F[-1]


def mp_edges(sigma2: float, N: int, M: int) -> tuple[float, float]:
    """MP bulk edges (λ⁻, λ⁺) = σ²(√N ∓ √M)² of the unnormalised ESD of an N×M matrix (N ≥ M)."""
    N, M = max(N, M), min(N, M)
    return float(sigma2 * (np.sqrt(N) - np.sqrt(M)) ** 2), float(sigma2 * (np.sqrt(N) + np.sqrt(M)) ** 2)


def mp_bulk_edge(W: np.ndarray) -> float:
    """λ⁺ with σ² the *raw* entry variance: exact for iid entries, too high when W holds spikes (use fit_mp_bulk)."""
    A = as_matrix(W)
    return mp_edges(float(A.var()), *A.shape)[1]


def fit_mp_bulk(evals: np.ndarray, N: int, M: int) -> dict[str, float]:
    """Fit the Marchenko–Pastur law to an ESD: σ² minimising the KS distance between the two CDFs.

    Spikes move the empirical CDF by at most (number of spikes)/M, so they barely pull σ²; the raw entry
    variance instead grows with their energy.

    Args:
        evals: the min(N, M) eigenvalues of WᵀW.
        N, M: the matrix shape (either order).

    Returns:
        ``sigma2`` (bulk entry variance), ``bulk_min``, ``bulk_max`` (λ⁻, λ⁺) and ``D`` (the KS distance).
    """
    N, M = max(int(N), int(M)), min(int(N), int(M))
    lam = np.sort(np.asarray(evals, dtype=np.float64).ravel())
    if lam.size != M:
        raise ValueError(f"evals: expected min(N, M) = {M} eigenvalues, got {lam.size}")
    if not np.isfinite(lam).all() or lam[-1] <= 0:
        raise ValueError("evals: expected finite eigenvalues, not all zero")
    x, F = _mp_unit_cdf(M / N)
    hi, lo = np.arange(1, M + 1) / M, np.arange(M) / M

    def dist(s2: float) -> float:
        model = np.interp(lam / (N * s2), x, F)
        return float(max(np.abs(hi - model).max(), np.abs(lo - model).max()))

    # A coarse log grid (the distance is not unimodal when spikes sit far out), then a fine linear one.
    top = 1.5 * lam[-1] / (N * x[-1])
    grid = np.geomspace(top * 1e-5, top, 240)
    d = np.array([dist(s) for s in grid])
    i = int(np.argmin(d))
    fine = np.linspace(grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)], 161)
    df = np.array([dist(s) for s in fine])
    j = int(np.argmin(df))
    s2 = float(fine[j])
    lo_edge, hi_edge = mp_edges(s2, N, M)
    return {"sigma2": s2, "bulk_min": lo_edge, "bulk_max": hi_edge, "D": float(df[j])}


def spike_threshold(sigma2: float, N: int, M: int, margin: str = "tw", mean_eval: float | None = None) -> float:
    """The eigenvalue above which a λ is a spike of an MP bulk with entry variance σ².

    Args:
        sigma2: bulk entry variance.
        N, M: matrix shape.
        margin: ``"tw"``: Johnstone's (2001) Tracy–Widom centring μ = σ²(√(N−1) + √M)² and scale
            s = σ²(√(N−1) + √M)(1/√(N−1) + 1/√M)^⅓, at the 99.9 % quantile μ + 3.27 s; ``"ww"``: WeightWatcher's
            λ⁺ + √TW with TW = Q^−½ λ⁺^⅔ M^−⅔ on the ESD rescaled to mean 1; ``"none"``: λ⁺ itself.
        mean_eval: the ESD's mean eigenvalue, WeightWatcher's rescaling unit for ``"ww"`` (default σ²N, the
            mean of a pure MP bulk).
    """
    N, M = max(N, M), min(N, M)
    edge = mp_edges(sigma2, N, M)[1]
    if margin == "none":
        return edge
    if margin == "tw":
        r = np.sqrt(max(N - 1, 1)) + np.sqrt(M)
        mu, s = r**2, r * (1 / np.sqrt(max(N - 1, 1)) + 1 / np.sqrt(M)) ** (1 / 3)
        return float(sigma2 * (mu + TW1_Q999 * s))
    if margin == "ww":
        unit = sigma2 * N if mean_eval is None else float(mean_eval)
        e = edge / unit
        tw = (N / M) ** -0.5 * e ** (2 / 3) * M ** (-2 / 3)
        return float(unit * (e + np.sqrt(tw)))
    raise ValueError(f"margin: expected 'tw', 'ww' or 'none', got {margin!r}")


def layer_metrics(
    W,
    evals: np.ndarray | None = None,
    randomize: bool = True,
    seed: int = 0,
    spike_margin: str = "tw",
    ks: str = "ww",
    small_n: bool = True,
) -> dict[str, float | str | int]:
    """WeightWatcher's per-layer metrics for one weight matrix: one SVD, plus one for ``randomize``.

    Args:
        W: the weight matrix (or tensor; see :func:`as_matrix`).
        evals: its ESD when already computed (saves the SVD).
        randomize: also check for correlation traps on an elementwise-shuffled copy.
        seed: seed of the shuffle.
        spike_margin: see :func:`spike_threshold`.
        ks, small_n: power-law rules, see :func:`fit_power_law`.

    Returns:
        ``n_evals``, ``alpha``, ``alpha_weighted`` (α̂ = α·log₁₀ λ_max), ``log_norm``, ``log_spectral_norm``,
        ``log_alpha_norm``, ``stable_rank``, ``sigma_mp`` (fitted bulk σ), ``bulk_max`` (λ⁺),
        ``mp_softrank`` (λ⁺/λ_max), ``num_spikes``, ``rand_num_spikes`` and ``rand_lambda_max_over_edge``
        (spikes of the shuffled matrix: a correlation trap when > 0), ``D``, ``xmin``, ``status`` and
        ``warning`` (``"over-trained"`` α < 2, ``"under-trained"`` α > 6, ``"spurious"`` α > 8,
        ``"few-evals"`` under 50 eigenvalues).
    """
    A = as_matrix(W)
    N, M = max(A.shape), min(A.shape)
    lam = esd(A) if evals is None else np.sort(np.asarray(evals, dtype=np.float64))
    lam_max = float(lam[-1])
    fit = fit_power_law(lam, ks=ks, small_n=small_n)
    alpha = float(fit["alpha"])
    mp = fit_mp_bulk(lam, N, M)
    thr = spike_threshold(mp["sigma2"], N, M, spike_margin, mean_eval=float(lam.mean()))
    out: dict[str, float | str | int] = {
        "n_evals": int(lam.size),
        "alpha": alpha,
        "alpha_weighted": alpha * np.log10(lam_max) if alpha > 0 else float("nan"),
        "log_norm": float(np.log10(lam.sum())),
        "log_spectral_norm": float(np.log10(lam_max)),
        "log_alpha_norm": float(np.log10(np.sum(lam**alpha))) if alpha > 0 else float("nan"),
        "stable_rank": float(lam.sum() / lam_max),
        "sigma_mp": float(np.sqrt(mp["sigma2"])),
        "bulk_max": mp["bulk_max"],
        "mp_softrank": float(mp["bulk_max"] / lam_max),
        "num_spikes": int(np.sum(lam > thr)),
        "D": float(fit["D"]),
        "xmin": float(fit["xmin"]),
        "status": str(fit["status"]),
    }
    if randomize:
        shuffled = np.random.default_rng(seed).permutation(A.ravel()).reshape(A.shape)
        rand = esd(shuffled)
        var = float(A.var())  # iid entries: the shuffled bulk's σ² is known exactly
        out["rand_num_spikes"] = int(np.sum(rand > spike_threshold(var, N, M, spike_margin)))
        out["rand_lambda_max_over_edge"] = float(rand[-1] / mp_edges(var, N, M)[1])
    warn = ""
    if lam.size < MIN_RELIABLE_EVALS:
        warn = "few-evals"
    elif alpha > ALPHA_SPURIOUS:
        warn = "spurious"
    elif 0 < alpha < 2:
        warn = "over-trained"
    elif alpha > 6:
        warn = "under-trained"
    out["warning"] = warn
    return out


def warn_few_evals(name: str, n: int) -> None:
    """Emit the small-layer warning once per layer."""
    warnings.warn(
        f"{name}: only {n} eigenvalues (< {MIN_RELIABLE_EVALS}); its power-law α is noisy",
        RuntimeWarning,
        stacklevel=3,
    )
