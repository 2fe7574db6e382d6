"""Empirical spectral densities of weight matrices in WeightWatcher's sense (spec C), numpy only.

The ESD of W (N×M) is λ = σ(W)² (not divided by N). A power law p(λ) ∝ λ^−α is fitted to the tail λ ≥ x_min,
with x_min chosen to minimise the Kolmogorov–Smirnov distance and α by maximum likelihood,
α = 1 + n / Σ ln(λ_i / x_min) — WeightWatcher's own ``pl_package='ww'`` rules.
"""

from __future__ import annotations

import warnings

import numpy as np

MIN_RELIABLE_EVALS = 50  # power-law fits on fewer eigenvalues are noisy (spec C)
ALPHA_SPURIOUS = 8.0


def as_matrix(w) -> np.ndarray:
    """A weight tensor as a 2-D float64 matrix (conv kernels and per-head stacks are flattened)."""
    a = np.asarray(w.detach().cpu().double().numpy() if hasattr(w, "detach") else w, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"w: expected a tensor with >= 2 dims, got shape {a.shape}")
    if a.ndim == 3:  # (H, d_head, d) stacks such as Nanda's W_Q → (H·d_head, d)
        return a.reshape(-1, a.shape[-1])
    return a.reshape(a.shape[0], -1)  # conv (out, in, kh, kw) → (out, in·kh·kw)


def esd(W: np.ndarray) -> np.ndarray:
    """Eigenvalues of WᵀW (the squared singular values), ascending."""
    sv = np.linalg.svd(as_matrix(W), compute_uv=False)
    return np.sort(sv**2)


def fit_power_law(evals: np.ndarray, min_tail: int = 5) -> dict[str, float | str]:
    """Fit p(λ) ∝ λ^−α to the tail of an ESD.

    Args:
        evals: eigenvalues (any order; zeros are dropped).
        min_tail: smallest tail size allowed for a candidate x_min.

    Returns:
        ``alpha``, ``xmin``, ``D`` (KS distance), ``n_tail`` and ``status`` (``"success"``, or
        ``"failed"`` with α = −1 as WeightWatcher reports it).
    """
    lam = np.sort(np.asarray(evals, dtype=np.float64))
    lam = lam[lam > 0]
    n_all = lam.size
    if n_all < min_tail + 1:
        return {"alpha": -1.0, "xmin": float("nan"), "D": float("nan"), "n_tail": 0, "status": "failed"}
    logs = np.log(lam)
    # Σ ln λ over each tail via a reversed cumulative sum, so every candidate is O(1) to score.
    tail_log_sum = np.cumsum(logs[::-1])[::-1]
    best = (np.inf, -1.0, float("nan"), 0)
    for i in range(0, n_all - min_tail):
        xmin = lam[i]
        n = n_all - i
        denom = tail_log_sum[i] - n * logs[i]
        if denom <= 0:
            continue
        alpha = 1.0 + n / denom
        tail = lam[i:]
        model_cdf = 1.0 - (tail / xmin) ** (1.0 - alpha)
        emp_hi = np.arange(1, n + 1) / n
        emp_lo = np.arange(0, n) / n
        D = float(max(np.max(np.abs(emp_hi - model_cdf)), np.max(np.abs(emp_lo - model_cdf))))
        if D < best[0]:
            best = (D, alpha, float(xmin), n)
    D, alpha, xmin, n = best
    if not np.isfinite(D):
        return {"alpha": -1.0, "xmin": float("nan"), "D": float("nan"), "n_tail": 0, "status": "failed"}
    return {"alpha": float(alpha), "xmin": xmin, "D": D, "n_tail": int(n), "status": "success"}


def mp_bulk_edge(W: np.ndarray) -> float:
    """Marchenko–Pastur bulk edge λ⁺ = σ²(√N + √M)² of the unnormalised ESD, σ² the entry variance."""
    A = as_matrix(W)
    N, M = A.shape
    return float(A.var() * (np.sqrt(N) + np.sqrt(M)) ** 2)


def layer_metrics(
    W, randomize: bool = True, seed: int = 0, trap_tolerance: float = 0.1
) -> dict[str, float | str | int]:
    """WeightWatcher's per-layer metrics for one weight matrix.

    Returns:
        ``n_evals``, ``alpha``, ``alpha_weighted`` (α̂ = α·log₁₀ λ_max), ``log_norm``, ``log_spectral_norm``,
        ``log_alpha_norm``, ``stable_rank``, ``mp_softrank`` (λ⁺/λ_max), ``num_spikes`` (λ > λ⁺),
        ``rand_num_spikes`` (spikes of the elementwise-shuffled matrix: a correlation trap when > 0),
        ``D``, ``xmin``, ``status`` and ``warning`` (``"over-trained"`` α < 2, ``"under-trained"`` α > 6,
        ``"spurious"`` α > 8, ``"few-evals"`` under 50 eigenvalues).
    """
    A = as_matrix(W)
    lam = esd(A)
    lam_max = float(lam[-1])
    fit = fit_power_law(lam)
    alpha = float(fit["alpha"])
    edge = mp_bulk_edge(A)
    out: dict[str, float | str | int] = {
        "n_evals": int(lam.size),
        "alpha": alpha,
        "alpha_weighted": alpha * np.log10(lam_max) if alpha > 0 else float("nan"),
        "log_norm": float(np.log10(lam.sum())),
        "log_spectral_norm": float(np.log10(lam_max)),
        "log_alpha_norm": float(np.log10(np.sum(lam**alpha))) if alpha > 0 else float("nan"),
        "stable_rank": float(lam.sum() / lam_max),
        "mp_softrank": float(edge / lam_max),
        "num_spikes": int(np.sum(lam > edge * (1 + trap_tolerance))),
        "D": float(fit["D"]),
        "xmin": float(fit["xmin"]),
        "status": str(fit["status"]),
    }
    if randomize:
        shuffled = np.random.default_rng(seed).permutation(A.ravel()).reshape(A.shape)
        out["rand_num_spikes"] = int(np.sum(esd(shuffled) > edge * (1 + trap_tolerance)))
        out["rand_lambda_max_over_edge"] = float(esd(shuffled)[-1] / edge)
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
