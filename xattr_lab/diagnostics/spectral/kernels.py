"""Pure maths of positional coupling in attention logits (spec A1–A2).

All functions take numpy arrays (float64 recommended) for one (layer, head) logit matrix ``S`` of shape
(T, T), *unmasked* — a causally masked matrix is triangular and its eigenvalues are just its diagonal.
"""

from __future__ import annotations

import numpy as np

ROPE_LAYOUTS = ("rotate_half", "interleaved")


def _square(S: np.ndarray, name: str = "S") -> np.ndarray:
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"{name}: expected a square (T, T) matrix, got shape {S.shape}")
    return S


def offsets(T: int) -> np.ndarray:
    """The offset matrix ``D[i, j] = i - j``."""
    idx = np.arange(T)
    return idx[:, None] - idx[None, :]


def row_centre(S: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Subtract each row's mean over its valid entries.

    Softmax ignores row constants, so two logit matrices that differ by a per-row constant (HF BLOOM adds
    ``+m·j`` where ALiBi is ``−m(i−j)``) give the same attention; centring makes them compare equal.

    Args:
        S: (T, T) logits.
        valid: optional boolean mask of the entries that count towards each row's mean (all by default).

    Returns:
        The row-centred matrix (invalid entries are centred with the same row mean).
    """
    S = _square(S).astype(np.float64)
    if valid is None:
        return S - S.mean(axis=1, keepdims=True)
    valid = np.asarray(valid, dtype=bool)
    counts = np.maximum(valid.sum(axis=1, keepdims=True), 1)
    return S - np.where(valid, S, 0.0).sum(axis=1, keepdims=True) / counts


def toeplitz_profile(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``S`` along each diagonal: ``t(δ) = mean_i S[i, i−δ]``.

    Returns:
        ``(deltas, t)`` with ``deltas = −(T−1) … T−1``.
    """
    S = _square(S).astype(np.float64)
    T = S.shape[0]
    d = (offsets(T) + (T - 1)).ravel()
    sums = np.bincount(d, weights=S.ravel(), minlength=2 * T - 1)
    counts = np.bincount(d, minlength=2 * T - 1)
    return np.arange(-(T - 1), T), sums / counts


def toeplitz_projection(S: np.ndarray) -> np.ndarray:
    """The nearest Toeplitz matrix in Frobenius norm: ``T̂ = t[D]``."""
    S = _square(S)
    T = S.shape[0]
    _, t = toeplitz_profile(S)
    return t[offsets(T) + (T - 1)]


def toeplitz_fraction(S: np.ndarray) -> float:
    """Share of the variance of ``S`` that its Toeplitz projection explains, ``‖T̂−μ‖² / ‖S−μ‖²``.

    About 1 for a pure relative bias (ALiBi, T5), about 0 for content-only logits (NoPE). A constant
    matrix has no variance and returns 1.0 (it *is* Toeplitz).
    """
    S = _square(S).astype(np.float64)
    mu = S.mean()
    denom = np.sum((S - mu) ** 2)
    if denom <= 1e-300:
        return 1.0
    return float(np.sum((toeplitz_projection(S) - mu) ** 2) / denom)


def symmetric_part(S: np.ndarray) -> np.ndarray:
    """``(S + Sᵀ)/2``: the part whose real eigenvalues bound the quadratic form of the logits."""
    S = _square(S).astype(np.float64)
    return 0.5 * (S + S.T)


def spread(S: np.ndarray) -> float:
    """``λ_max − λ_min`` of the symmetric part of ``S``."""
    ev = np.linalg.eigvalsh(symmetric_part(S))
    return float(ev[-1] - ev[0])


def effective_rank(singular_values: np.ndarray) -> float:
    """Roy & Vetterli's effective rank ``exp(H(σ/Σσ))``."""
    s = np.asarray(singular_values, dtype=np.float64)
    s = s[s > 0]
    if s.size == 0:
        return 0.0
    p = s / s.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def spectrum_stats(S: np.ndarray) -> dict[str, float]:
    """Scalar spectral statistics of one logit matrix (spec A2.4).

    Returns:
        ``lambda_min``, ``lambda_max``, ``spread`` (of the symmetric part), ``spectral_radius``
        (max |eig(S)|), ``sigma_max``, ``condition`` (σ_max / max(σ_min, 1e-6 σ_max)), ``effective_rank``
        and ``stable_rank`` (‖S‖²_F / σ²_max).
    """
    S = _square(S).astype(np.float64)
    ev = np.linalg.eigvalsh(symmetric_part(S))
    sv = np.linalg.svd(S, compute_uv=False)
    smax = float(sv[0])
    floor = max(float(sv[-1]), 1e-6 * smax)
    return {
        "lambda_min": float(ev[0]),
        "lambda_max": float(ev[-1]),
        "spread": float(ev[-1] - ev[0]),
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(S)))),
        "sigma_max": smax,
        "condition": smax / floor if smax > 0 else float("inf"),
        "effective_rank": effective_rank(sv),
        "stable_rank": float(np.sum(sv**2) / smax**2) if smax > 0 else 0.0,
    }


def contraction_ratio(S: np.ndarray, S_without: np.ndarray, centre: bool = True) -> float:
    """``spread(S) / spread(S_without)``: below 1 the positional coupling contracts the spectrum.

    Args:
        S: logits with positional coupling.
        S_without: the same q/k without it (RoPE: the pre-rotary q·k; additive: without the bias).
        centre: row-centre both first (softmax ignores row constants).

    Returns:
        The ratio (inf when ``S_without`` has zero spread).
    """
    S, S_without = _square(S), _square(S_without, "S_without")
    if S.shape != S_without.shape:
        raise ValueError(f"S_without: shape {S_without.shape} differs from S {S.shape}")
    if centre:
        S, S_without = row_centre(S), row_centre(S_without)
    base = spread(S_without)
    return float(spread(S) / base) if base > 0 else float("inf")


def schur_bounds(C: np.ndarray, G: np.ndarray) -> tuple[float, float]:
    """Schur's bounds on the eigenvalues of ``C∘G`` for PSD ``C`` and ``G`` (Horn & Johnson 5.3.4).

    Returns:
        ``(λ_min(C)·min G_ii, λ_max(C)·max G_ii)``.
    """
    C, G = _square(C, "C"), _square(G, "G")
    ev = np.linalg.eigvalsh(symmetric_part(C))
    g = np.real(np.diag(G))
    return float(ev[0] * g.min()), float(ev[-1] * g.max())


def alibi_slopes(n_heads: int) -> np.ndarray:
    """Press et al.'s slopes ``2^(−8h/H)`` (h = 1..H); BLOOM's interpolation when H is not a power of 2."""
    if not isinstance(n_heads, int) or n_heads < 1:
        raise ValueError(f"n_heads: expected a positive integer, got {n_heads!r}")

    def pow2(n: int) -> list[float]:
        start = 2 ** (-8 / n)
        return [start ** (i + 1) for i in range(n)]

    closest = 2 ** int(np.floor(np.log2(n_heads)))
    slopes = pow2(closest)
    if closest != n_heads:
        slopes += pow2(2 * closest)[0::2][: n_heads - closest]
    return np.asarray(slopes, dtype=np.float64)


def alibi_bias(T: int, slope: float) -> np.ndarray:
    """Unmasked ALiBi bias ``−m·|i−j|``: the causal ``−m(i−j)`` extended symmetrically to the future."""
    return -float(slope) * np.abs(offsets(T)).astype(np.float64)


def averaged_rope_kernel(T: int, inv_freq: np.ndarray) -> np.ndarray:
    """``G = mean_k cos(θ_k (i−j))``: PSD Toeplitz with unit diagonal."""
    theta = np.asarray(inv_freq, dtype=np.float64)
    return np.cos(theta[:, None, None] * offsets(T)[None]).mean(axis=0)


def _complex_pairs(x: np.ndarray, n_freq: int, layout: str) -> np.ndarray:
    """Pack the rotated dims of ``x`` (T, d) into (T, K) complex numbers per the rotary layout."""
    if layout == "rotate_half":
        # HF Llama/Qwen/NeoX pair dim j with j + d_r/2.
        return x[:, :n_freq] + 1j * x[:, n_freq : 2 * n_freq]
    if layout == "interleaved":
        # RoFormer/GPT-J pair dims 2j and 2j+1.
        return x[:, 0 : 2 * n_freq : 2] + 1j * x[:, 1 : 2 * n_freq : 2]
    raise ValueError(f"layout: expected one of {ROPE_LAYOUTS}, got {layout!r}")


def apply_rope(x: np.ndarray, inv_freq: np.ndarray, layout: str = "rotate_half", positions=None) -> np.ndarray:
    """Rotate (T, d) vectors by RoPE; dims beyond ``2·len(inv_freq)`` pass through (partial rotary).

    Args:
        x: (T, d) pre-rotary queries or keys.
        inv_freq: (K,) angular frequencies θ_k — pass the model's own ``rotary_emb.inv_freq``.
        layout: ``"rotate_half"`` or ``"interleaved"``.
        positions: (T,) positions (default ``0..T−1``).

    Returns:
        The rotated vectors, same shape as ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    theta = np.asarray(inv_freq, dtype=np.float64)
    K = theta.shape[0]
    if x.ndim != 2 or x.shape[1] < 2 * K:
        raise ValueError(f"x: expected (T, d) with d >= 2·len(inv_freq) = {2 * K}, got {x.shape}")
    pos = np.arange(x.shape[0], dtype=np.float64) if positions is None else np.asarray(positions, np.float64)
    z = _complex_pairs(x, K, layout) * np.exp(1j * pos[:, None] * theta[None])
    out = x.copy()
    if layout == "rotate_half":
        out[:, :K], out[:, K : 2 * K] = z.real, z.imag
    else:
        out[:, 0 : 2 * K : 2], out[:, 1 : 2 * K : 2] = z.real, z.imag
    return out


def rope_freq_decompose(
    q: np.ndarray,
    k: np.ndarray,
    inv_freq: np.ndarray,
    layout: str = "rotate_half",
    scale: float = 1.0,
    positions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split post-rotary logits into per-frequency content and kernel: ``S = Σ_k Re(C_k∘G_k) + S_pass``.

    ``C_k[i, j] = scale · q̃_{i,k} · conj(k̃_{j,k})`` from the *pre-rotary* q/k packed as complex pairs, and
    ``G_k[i, j] = exp(iθ_k(p_i − p_j))`` is Toeplitz, rank 1, PSD with unit diagonal.

    Args:
        q: (T, d) pre-rotary queries of one head.
        k: (T, d) pre-rotary keys.
        inv_freq: (K,) θ_k; ``2K <= d`` (the rest of the dims are not rotated).
        layout: ``"rotate_half"`` or ``"interleaved"``.
        scale: logit scale (usually ``1/√d``).
        positions: (T,) positions (default ``0..T−1``).

    Returns:
        ``(C, G, S_pass)``: complex (K, T, T), complex (K, T, T) and the real (T, T) logits of the
        non-rotated dims.
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    if q.shape != k.shape or q.ndim != 2:
        raise ValueError(f"q, k: expected equal (T, d) shapes, got {q.shape} and {k.shape}")
    theta = np.asarray(inv_freq, dtype=np.float64)
    K, T = theta.shape[0], q.shape[0]
    if q.shape[1] < 2 * K:
        raise ValueError(f"inv_freq: {K} frequencies need d >= {2 * K}, got d = {q.shape[1]}")
    zq, zk = _complex_pairs(q, K, layout), _complex_pairs(k, K, layout)
    C = scale * zq.T[:, :, None] * np.conj(zk.T[:, None, :])
    pos = np.arange(T, dtype=np.float64) if positions is None else np.asarray(positions, np.float64)
    G = np.exp(1j * theta[:, None, None] * (pos[:, None] - pos[None, :])[None])
    rot = np.zeros(q.shape[1], dtype=bool)
    if layout == "rotate_half":
        rot[: 2 * K] = True
    else:
        rot[0 : 2 * K] = True
    S_pass = scale * q[:, ~rot] @ k[:, ~rot].T
    return C, G, S_pass


def rope_energy(C: np.ndarray) -> np.ndarray:
    """Energy per frequency band ``E_k = ‖C_k‖²_F`` of the content part."""
    C = np.asarray(C)
    if C.ndim != 3:
        raise ValueError(f"C: expected (K, T, T), got shape {C.shape}")
    return np.sum(np.abs(C) ** 2, axis=(1, 2))
