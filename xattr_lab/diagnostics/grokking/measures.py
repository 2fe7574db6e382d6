"""Grokking progress measures (spec B1, B2, B4).

MED, Fourier key frequencies, restricted and excluded loss, Gini of Fourier norms, weight norm and embedding
geometry.

Pure functions over numpy/torch arrays; the trainer calls them at each evaluation.
"""

from __future__ import annotations

import numpy as np
import torch

from xattr_lab.diagnostics._stats import gini

# Human labels for the logged series. Two different "uniformities" exist in the literature: Wang & Isola's
# hypersphere uniformity (a contrastive-learning loss) and Gu et al.'s weight-decay uniformity (equal norms
# and equal pairwise geometry at the weight-decay minimum). They move in *opposite* directions during
# grokking (spec B3), so they are logged and labelled apart.
SERIES_LABELS: dict[str, str] = {
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "weight_norm": "weight norm ‖θ‖₂",
    "med": "MED (mean embedding distance of consecutive numbers)",
    "restricted_loss": "restricted loss (key frequencies only, all data)",
    "excluded_loss": "excluded loss (key frequencies removed, train data)",
    "fourier_gini": "Gini of the embedding's Fourier norms",
    "n_key_freqs": "number of key frequencies",
    "effective_rank": "effective rank of E",
    "participation_ratio": "participation ratio of E",
    "unif_hypersphere": "hypersphere uniformity, Wang–Isola L_unif (lower = more uniform on the sphere)",
    "wd_uniformity_norm_cv": "weight-decay uniformity (Gu et al.): CV of embedding norms (0 = equal norms)",
    "wd_uniformity_dist_cv": "weight-decay uniformity (Gu et al.): CV of consecutive distances (0 = equal)",
    "lr": "learning rate",
}


def weight_norm(model: torch.nn.Module) -> float:
    """``‖θ‖₂`` over all parameters."""
    with torch.no_grad():
        return float(torch.sqrt(sum((p.double() ** 2).sum() for p in model.parameters())))


def med(E: np.ndarray, n: int | None = None, offsets: tuple[int, ...] = (0,)) -> float:
    """Mean Euclidean distance between embeddings of consecutive number tokens (Gu et al.'s MED).

    Args:
        E: (V, d) embedding matrix (rows are tokens).
        n: how many consecutive numbers per block (default: all rows from the offset).
        offsets: first row of each block of numbers; with separate a- and b-tokens (Gu et al.'s strip task)
            pass both offsets and the MED is the mean over blocks, as in their code (which uses means, not
            the sums of ``rec.py``).

    Returns:
        The MED.
    """
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"E: expected a (V, d) matrix, got shape {E.shape}")
    vals = []
    for off in offsets:
        stop = E.shape[0] if n is None else off + n
        if stop - off < 2 or stop > E.shape[0]:
            raise ValueError(f"n, offsets: block {off}..{stop} does not fit {E.shape[0]} rows")
        block = E[off:stop]
        vals.append(np.linalg.norm(np.diff(block, axis=0), axis=1).mean())
    return float(np.mean(vals))


def fourier_basis(p: int) -> tuple[np.ndarray, list[str]]:
    """Orthonormal real Fourier basis over Z_p: rows const, cos 1, sin 1, …, cos K, sin K (K = (p−1)/2).

    Returns:
        ``(F, names)`` with F of shape (p, p).
    """
    if p < 3 or p % 2 == 0:
        raise ValueError(f"p: expected an odd modulus >= 3, got {p!r}")
    x = np.arange(p)
    rows, names = [np.ones(p)], ["const"]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [np.cos(2 * np.pi * k * x / p), np.sin(2 * np.pi * k * x / p)]
        names += [f"cos {k}", f"sin {k}"]
    F = np.stack(rows)
    return F / np.linalg.norm(F, axis=1, keepdims=True), names


def fourier_norms(E_numbers: np.ndarray) -> np.ndarray:
    """Norm of the embedding's Fourier component per frequency k = 1..K (cos and sin combined)."""
    E = np.asarray(E_numbers, dtype=np.float64)
    F, _ = fourier_basis(E.shape[0])
    c = np.linalg.norm(F @ E, axis=1)
    return np.sqrt(c[1::2] ** 2 + c[2::2] ** 2)


KEY_FREQ_RULES = ("vote", "argmax")


def key_frequencies(
    acts: np.ndarray,
    p: int,
    min_share: float = 0.3,
    min_neurons: float = 0.05,
    rule: str = "vote",
    max_freq: int | None = None,
    fallback: int = 3,
) -> tuple[list[int], np.ndarray]:
    """Key frequencies from the last-position MLP activations over all p² inputs.

    Each neuron's activation pattern over (a, b) is centred and put through a 2-D real DFT; its best frequency k
    maximises the share of its variance in the {1, cos k, sin k}² block (as in Nanda et al.). Two rules turn the
    neurons' best frequencies into a key set:

    - ``"vote"`` (default): a neuron votes only when its best share is ``>= min_share``, and a frequency is key
      when at least ``min_neurons`` of the neurons vote for it. Early in training, when no neuron is periodic,
      the set is small and stable instead of listing noise.
    - ``"argmax"``: Nanda et al.'s reference — the distinct best frequencies of all neurons, with no threshold
      (``min_share`` and ``min_neurons`` are ignored). Before grokking this lists many frequencies, and the
      restricted/excluded losses then differ a lot from the vote rule's.

    Dead neurons (zero variance over the grid) have no best frequency and never vote under either rule (the
    reference code would divide by zero there). When no frequency qualifies, the ``fallback`` frequencies with
    the most block energy are returned (ties to the lowest k), so the dependent measures stay defined. The
    returned frequencies are always in 1..``max_freq``, never 0, so the losses built on them are never NaN.

    Args:
        acts: (p², N) activations, row ``a·p + b``.
        p: the modulus (odd).
        min_share: ``"vote"``: minimum variance share for a neuron to vote (0 ≤ min_share ≤ 1).
        min_neurons: ``"vote"``: minimum fraction of neurons voting for a key frequency (0 ≤ min_neurons ≤ 1).
        rule: ``"vote"`` or ``"argmax"``.
        max_freq: largest candidate frequency; default p // 2, the highest one on Z_p. ``p // 2 − 1`` reproduces
            a reference loop over ``range(1, p // 2)``, which never considers k = p // 2.
        fallback: how many frequencies to return when none qualifies (≥ 1).

    Returns:
        ``(key_freqs, votes)``: sorted key frequencies and the votes per frequency, shape (p//2 + 1,), index 0
        unused (under ``"argmax"`` every live neuron votes).
    """
    if rule not in KEY_FREQ_RULES:
        raise ValueError(f"rule: expected one of {KEY_FREQ_RULES}, got {rule!r}")
    A = np.asarray(acts, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != p * p:
        raise ValueError(f"acts: expected shape (p², N) = ({p * p}, N), got {A.shape}")
    if not np.isfinite(A).all():
        raise ValueError("acts: expected finite activations")
    for name, value in (("min_share", min_share), ("min_neurons", min_neurons)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}: expected a value in [0, 1], got {value!r}")
    K = (p - 1) // 2
    top = K if max_freq is None else int(max_freq)
    if not 1 <= top <= K:
        raise ValueError(f"max_freq: expected 1..{K} (= p // 2), got {max_freq!r}")
    if isinstance(fallback, bool) or not isinstance(fallback, int) or not 1 <= fallback <= top:
        raise ValueError(f"fallback: expected an integer in 1..{top}, got {fallback!r}")
    F, _ = fourier_basis(p)
    A = (A - A.mean(axis=0)).reshape(p, p, -1)
    # F A Fᵀ per neuron as two tensordots (a three-operand einsum without optimize is far slower).
    coef = np.tensordot(F, np.tensordot(F, A, axes=(1, 0)), axes=(1, 1)).transpose(1, 0, 2) ** 2
    total = coef.sum(axis=(0, 1))
    live = total > 1e-12 * max(float(total.max()), 1e-300)
    energy = np.zeros((K + 1, A.shape[2]))
    for k in range(1, top + 1):
        idx = [0, 2 * k - 1, 2 * k]
        energy[k] = coef[np.ix_(idx, idx)].sum(axis=(0, 1))
    share = np.divide(energy, total, out=np.zeros_like(energy), where=live)
    best = share[1:].argmax(axis=0) + 1
    voters = live if rule == "argmax" else live & (share.max(axis=0) >= min_share)
    votes = np.bincount(best[voters], minlength=K + 1).astype(np.float64)
    if rule == "argmax":
        key = [int(k) for k in np.flatnonzero(votes[1:] > 0) + 1]
    else:
        key = [int(k) for k in np.flatnonzero(votes[1:] >= max(1.0, min_neurons * A.shape[2])) + 1]
    if not key:
        block = energy[1 : top + 1].sum(axis=1)
        key = sorted(int(k) + 1 for k in np.argsort(-block, kind="stable")[:fallback])
    return key, votes


def _directions(p: int, key_freqs: list[int], op: str) -> np.ndarray:
    """Orthonormal (p², 2K) cos/sin of w_k(a ± b) over the full grid."""
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    if op == "add":
        s = (a + b).ravel()
    elif op == "sub":
        s = (a - b).ravel()
    else:
        raise ValueError(f"op: restricted/excluded loss needs 'add' or 'sub', got {op!r}")
    cols = []
    for k in key_freqs:
        w = 2 * np.pi * k / p
        cols += [np.cos(w * s), np.sin(w * s)]
    U = np.stack(cols, axis=1)
    return U / np.linalg.norm(U, axis=0, keepdims=True)


def _xent(logits: np.ndarray, labels: np.ndarray) -> float:
    # float64 log-softmax: float32 gives spurious loss spikes once logits are large (spec B2).
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(labels.shape[0]), labels].mean())


def restricted_and_excluded_loss(
    logits: np.ndarray,
    labels: np.ndarray,
    p: int,
    key_freqs: list[int],
    train_mask: np.ndarray,
    op: str = "add",
) -> tuple[float, float]:
    """Nanda et al.'s restricted loss (all data) and excluded loss (train data).

    Restricted keeps only the cos/sin(w_k(a+b)) components of the logits for the key frequencies and adds
    back the mean of what was removed; excluded removes exactly those components.

    Args:
        logits: (p², C) logits over the full grid, row ``a·p + b`` (the *unreshaped* logits: reshaping to
            (p, p, C) first was TransformerLens#543's bug).
        labels: (p²,) true answers.
        p: modulus.
        key_freqs: frequencies to keep/remove.
        train_mask: (p, p) or (p²,) boolean training mask.
        op: ``"add"`` or ``"sub"``.

    Returns:
        ``(restricted_loss, excluded_loss)``.
    """
    L = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if L.ndim != 2 or L.shape[0] != p * p:
        raise ValueError(f"logits: expected shape (p², C) = ({p * p}, C), got {L.shape}")
    if not key_freqs:
        raise ValueError("key_freqs: need at least one frequency")
    bad = [k for k in key_freqs if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= p // 2]
    if bad:
        raise ValueError(f"key_freqs: expected integers in 1..{p // 2} (= p // 2), got {bad}")
    U = _directions(p, key_freqs, op)
    proj = U @ (U.T @ L)
    rest = L - proj
    restricted = proj + rest.mean(axis=0, keepdims=True)
    train = np.asarray(train_mask, dtype=bool).ravel()
    return _xent(restricted, y), _xent(rest[train], y[train])


def embedding_geometry(E: np.ndarray, t: float = 2.0) -> dict[str, float]:
    """Geometry of an embedding matrix (spec B4), rows are tokens.

    Returns:
        ``effective_rank`` (exp entropy of the singular values of the centred E), ``participation_ratio``
        ((Σλ)²/Σλ² of its covariance), ``stable_rank``, ``unif_hypersphere`` (Wang–Isola, lower = more
        uniform on the sphere), ``cos_mean``/``cos_std`` of off-diagonal cosines, and Gu et al.'s
        weight-decay uniformity proxies ``wd_uniformity_norm_cv`` (CV of row norms) and
        ``wd_uniformity_dist_cv`` (CV of consecutive-row distances).
    """
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2 or E.shape[0] < 2:
        raise ValueError(f"E: expected a (V >= 2, d) matrix, got shape {E.shape}")
    sv = np.linalg.svd(E - E.mean(axis=0), compute_uv=False)
    lam = sv**2
    p = sv[sv > 0] / sv.sum()
    norms = np.linalg.norm(E, axis=1)
    Z = E / np.maximum(norms[:, None], 1e-12)
    cos = Z @ Z.T
    iu = np.triu_indices(E.shape[0], 1)
    sq = np.clip(2.0 - 2.0 * cos[iu], 0.0, None)  # ‖ẑi − ẑj‖² for unit vectors
    dist = np.linalg.norm(np.diff(E, axis=0), axis=1)
    full_sv = np.linalg.svd(E, compute_uv=False)
    return {
        "effective_rank": float(np.exp(-np.sum(p * np.log(p)))),
        "participation_ratio": float(lam.sum() ** 2 / np.sum(lam**2)),
        "stable_rank": float(np.sum(full_sv**2) / full_sv[0] ** 2),
        "unif_hypersphere": float(np.log(np.mean(np.exp(-t * sq)))),
        "cos_mean": float(cos[iu].mean()),
        "cos_std": float(cos[iu].std()),
        "wd_uniformity_norm_cv": float(norms.std() / max(norms.mean(), 1e-12)),
        "wd_uniformity_dist_cv": float(dist.std() / max(dist.mean(), 1e-12)),
    }


def fourier_gini(E_numbers: np.ndarray) -> float:
    """Gini of the embedding's per-frequency Fourier norms: jumps when a few frequencies take over."""
    return gini(fourier_norms(E_numbers))
