"""Set functions the searches maximise: EAGLE's (insight + necessity) and LiMA's four-term objective.

An objective maps region bitmasks to scores ``F(S)``; for each subset it needs the probabilities with
``S`` kept (insertion image ``x_S``) and with ``S`` removed (deletion image ``x_{V∖S}``), asked of the
scorer in one batch so every candidate of a search step shares the same ``score`` calls.

Contrastive targets (a scorer with a ``contrast``): both objectives then read, in place of ``p(t)``, the
target's probability within the pair, ``p(t) / (p(t) + p(c)) = σ(log p(t) − log p(c))``: a monotone
function of the contrastive margin that stays in [0, 1], so the paper's weights keep their meaning and
LiMA's confidence term becomes ``1 − H`` over the pair {target, contrast}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from xattr_lab.scoring.subsets import SubsetScorer, bits_to_keep


class Objective(Protocol):
    """A set function over region subsets."""

    scorer: SubsetScorer

    def __call__(self, sets: Sequence[int]) -> np.ndarray:
        """``F(S)`` for each bitmask, float64 [B]."""
        ...

    def structural(self, sets: Sequence[int]) -> np.ndarray:
        """The part of ``F`` that needs no forward pass, weighted as in ``F`` (LiMA: λ_eff · diversity), [B]."""
        ...


def check_lambdas(lambdas: Sequence[float], names: Sequence[str], method: str) -> tuple[float, ...]:
    """Validate objective weights: one finite real number per term, not all zero.

    A NaN weight makes every ``F(S)`` NaN, and ``argmax`` of NaN scores returns the first candidate, so
    the search would silently return the identity order; an all-zero vector does the same with a constant F.

    Raises:
        TypeError: when ``lambdas`` is not a sequence of real numbers.
        ValueError: for the wrong length, a NaN or infinite weight, or all weights zero.
    """
    if isinstance(lambdas, (str, bytes)) or not hasattr(lambdas, "__len__"):
        raise TypeError(f"lambdas: expected a sequence of {len(names)} numbers {tuple(names)}, got {lambdas!r}")
    if len(lambdas) != len(names):
        raise ValueError(f"lambdas: {method} takes ({', '.join(names)}), got {lambdas!r}")
    out = []
    for name, x in zip(names, lambdas):
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise TypeError(f"lambdas: the {name} weight must be a real number, got {x!r}")
        if not np.isfinite(x):
            raise ValueError(f"lambdas: the {name} weight must be finite, got {x!r}")
        out.append(float(x))
    if not any(out):
        raise ValueError(f"lambdas: all weights are zero, so F is constant and every order ties; got {lambdas!r}")
    return tuple(out)


def _ins_del(scorer: SubsetScorer, sets: Sequence[int], insertion_variant: int = 0) -> tuple[np.ndarray, np.ndarray]:
    sets = list(sets)
    contrastive = getattr(scorer, "contrast", None) is not None
    if contrastive and insertion_variant:
        raise ValueError("candidates: a contrastive objective compares the target with its contrast only")
    if insertion_variant:
        # The insertion images come from a variant whose first columns are the targets (LiMA's candidates
        # ride along in the same forward); the deletion images need only the targets.
        width = len(scorer.positions)
        return scorer.probs(sets, variant=insertion_variant)[:, :width], scorer.probs([scorer.full ^ s for s in sets])
    if contrastive:
        probs = scorer.pairwise(sets + [scorer.full ^ s for s in sets])
    else:
        probs = scorer.probs(sets + [scorer.full ^ s for s in sets])
    return probs[: len(sets)], probs[len(sets) :]


class EagleObjective:
    """EAGLE: ``F(S) = mean_i [λ1·p_i(x_S) + λ2·(1 − p_i(x_{V∖S}))]`` over the target tokens.

    The paper writes sums; the code (and we) average over tokens so ``F`` does not grow with sentence length.

    Args:
        scorer: the subset scorer.
        lambdas: ``(λ1, λ2)`` for insight and necessity (paper: 1, 1).
    """

    def __init__(self, scorer: SubsetScorer, lambdas: Sequence[float] = (1.0, 1.0)) -> None:
        self.lambdas = check_lambdas(lambdas, ("insight", "necessity"), "EAGLE")
        self.scorer = scorer

    def __call__(self, sets: Sequence[int]) -> np.ndarray:
        """``F(S)`` per bitmask."""
        ins, dele = _ins_del(self.scorer, sets)
        return (self.lambdas[0] * ins + self.lambdas[1] * (1.0 - dele)).mean(axis=-1)

    def structural(self, sets: Sequence[int]) -> np.ndarray:
        """EAGLE has no forward-free term."""
        return np.zeros(len(sets))


def angular_distances(embeddings: np.ndarray) -> np.ndarray:
    """LiMA's ``d(i, j) = arccos(cos(f_i, f_j)) / π`` between region embeddings [N, D] → [N, N]."""
    e = np.asarray(embeddings, dtype=np.float64)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    return np.arccos(np.clip(e @ e.T, -1.0, 1.0)) / np.pi


def region_descriptors(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Model-free region embeddings [N, 8]: mean and spread of colour, and the centroid.

    LiMA embeds each region with the explained model's image encoder; a ScoringModel exposes no encoder, so
    we describe regions by what the encoder would mostly see: their colour statistics and where they sit.
    """
    img = np.asarray(image, dtype=np.float64).reshape(-1, np.shape(image)[-1]) / 255.0
    lab = labels.ravel()
    n = int(lab.max()) + 1
    counts = np.maximum(np.bincount(lab, minlength=n), 1)[:, None]
    mean = np.stack([np.bincount(lab, img[:, c], n) for c in range(img.shape[1])], 1) / counts
    sq = np.stack([np.bincount(lab, img[:, c] ** 2, n) for c in range(img.shape[1])], 1) / counts
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    ys, xs = np.indices(labels.shape)
    cy = np.bincount(lab, ys.ravel() / labels.shape[0], n)[:, None] / counts
    cx = np.bincount(lab, xs.ravel() / labels.shape[1], n)[:, None] / counts
    # The constant column keeps all-black regions from having a zero vector (undefined angle).
    return np.concatenate([mean, std, cy, cx, np.full((n, 1), 0.1)], axis=1)


class LimaObjective:
    """LiMA: ``F = λ_cons·cons + λ_colla·colla + λ_conf·conf + λ_eff·eff``.

    - consistency ``p(x_S)``, collaboration ``1 − p(x_{V∖S})`` (means over target tokens);
    - confidence ``1 − H(q) / log K`` of the insertion image's distribution ``q`` over a candidate set (the
      answer words); without candidates, the binary set {target, anything else};
    - effectiveness (diversity) ``Σ_{i∈S} min_{j∈S, j≠i} d(i, j)`` over region embeddings.

    Args:
        scorer: the subset scorer; its ``variants`` carry the candidate answers (see ``candidate_index``).
        embeddings: region embeddings [N, D].
        lambdas: ``(cons, colla, conf, eff)`` in the paper's order; default (20, 5, 0.05, 0.01).
        candidate_index: for each target position, the other candidates, each a scorer variant id ``v``
            (its probability is column 0 of variant ``v``) or a pair ``(v, columns)`` (the product of those
            columns of variant ``v``: one column for a token read off a shared forward, several for the
            pieces of a multi-token candidate scored on its own sequence).
        insertion_variant: a scorer variant whose first ``T`` columns are the targets at the scorer's
            positions, used for the insertion images so candidates read there cost no extra forward
            (0: the scorer's own targets).
    """

    def __init__(
        self,
        scorer: SubsetScorer,
        embeddings: np.ndarray,
        lambdas: Sequence[float] = (20.0, 5.0, 0.05, 0.01),
        candidate_index: Sequence[Sequence[int | tuple[int, Sequence[int]]]] = (),
        insertion_variant: int = 0,
    ) -> None:
        self.lambdas = check_lambdas(lambdas, ("cons", "colla", "conf", "eff"), "LiMA")
        self.scorer = scorer
        self.distance = angular_distances(embeddings)
        if self.distance.shape[0] != scorer.n:
            raise ValueError(f"embeddings: {self.distance.shape[0]} rows for {scorer.n} regions")
        self.candidate_index = [
            [(c, [0]) if isinstance(c, (int, np.integer)) else (int(c[0]), [int(j) for j in c[1]]) for c in row]
            for row in candidate_index
        ]
        self.insertion_variant = int(insertion_variant)

    def __call__(self, sets: Sequence[int]) -> np.ndarray:
        """``F(S)`` per bitmask."""
        sets = list(sets)
        ins, dele = _ins_del(self.scorer, sets, self.insertion_variant)
        cons, colla = ins.mean(-1), 1.0 - dele.mean(-1)
        lc, lo, lf, _ = self.lambdas
        value = lc * cons + lo * colla + self.structural(sets)
        if lf:
            value = value + lf * self._confidence(sets, ins)
        return value

    def _confidence(self, sets: list[int], ins: np.ndarray) -> np.ndarray:
        eps = 1e-12
        if not self.candidate_index:
            p = np.clip(ins, eps, 1 - eps)
            entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p)) / np.log(2.0)
            return (1.0 - entropy).mean(-1)
        per_token = []
        for t, others in enumerate(self.candidate_index):
            cols = [ins[:, t]]
            for variant, columns in others:
                probs = self.scorer.probs(sets, variant=variant)
                cols.append(np.prod(probs[:, columns], axis=1))
            if len(cols) == 1:  # no other candidate here: a one-point distribution has no entropy
                per_token.append(np.ones(len(sets)))
                continue
            q = np.clip(np.stack(cols, axis=1), eps, None)
            q = q / q.sum(1, keepdims=True)
            per_token.append(1.0 + (q * np.log(q)).sum(1) / np.log(q.shape[1]))
        return np.mean(per_token, axis=0)

    def structural(self, sets: Sequence[int]) -> np.ndarray:
        """The forward-free part of ``F``, weighted as in ``F``: ``λ_eff · diversity(S)`` per bitmask.

        The bidirectional search moves this term from ``S⁺ ∪ c`` to ``S⁻ ∪ c`` in its shortlist proxy, so it
        must carry the same weight as in ``F`` (LiMA's reference weights it by its λ for effectiveness).
        """
        weight = self.lambdas[3]
        return weight * self.diversity(sets) if weight else np.zeros(len(list(sets)))

    def diversity(self, sets: Sequence[int]) -> np.ndarray:
        """Unweighted diversity ``Σ_{i∈S} min_{j∈S, j≠i} d(i, j)`` per bitmask (0 for |S| < 2)."""
        keep = bits_to_keep(list(sets), self.scorer.n)
        out = np.zeros(len(keep))
        for b, row in enumerate(keep):
            idx = np.flatnonzero(row)
            if len(idx) < 2:
                continue
            sub = self.distance[np.ix_(idx, idx)].copy()
            np.fill_diagonal(sub, np.inf)
            out[b] = sub.min(axis=1).sum()
        return out
