"""SMA-style source attribution (Sun et al., 2025): is an output word from pre-training, retrieval or neither?

The prompt is built from sources (the user prompt, retrieved passages, an image described as text). Random
keep/drop masks over the words (each word kept with probability ½, at least one kept) give perturbed prompts;
the response score of each output word is its probability under the perturbed prompt (teacher forcing: the
semi-black-box oracle of ``score_text``); ridge regression ``β = (MᵀM + αI)⁻¹ Mᵀ r`` (centred) gives each
input word's influence. The same is done with retrieval switched off (retrieved sources replaced by their
``off`` text). Each content output word is then labelled:

* ``"pre-training"``: the model says it without retrieval (``p_off ≥ known``) and it rests on the prompt
  (``Σ|β_off| ≥ tau``): knowledge the question triggers;
* ``"retrieval"``: otherwise, when the retrieved words carry it (``Σ β_on(retrieved) ≥ tau``);
* ``"neither"``: stop words and words no input moves (language priors, formatting).

The paper's thresholds and response-similarity score are not public; these rules are the reconstruction in
``reference/seed_attribution.md`` §4. Images enter through Gaussian noise on the pixels (``sigma``) when the
scorer supports it (:func:`model_scorer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STOP_WORDS = frozenset({"a", "an", "the", "is", "are", "of", "and", "to", "in", ".", ",", "?", "!"})


@dataclass(frozen=True)
class Source:
    """A piece of the prompt.

    Attributes:
        name: a label (``"question"``, ``"passage 1"``).
        text: its words.
        retrieved: True for retrieved context (switched off in the no-retrieval run).
        off: the text that stands in when retrieval is off (``""``: the source is left out).
    """

    name: str
    text: str
    retrieved: bool = False
    off: str = ""


@dataclass(frozen=True, eq=False)
class SourceAttribution:
    """Which input words each output word rests on, with and without retrieval, and the labels.

    Attributes:
        words: the input words (all sources, in order).
        word_source: the source name of each word.
        outputs: the explained output words.
        beta_on: float [O, W] ridge influence of each word with retrieval on.
        beta_off: float [O, W] the same with retrieval off (NaN for retrieved words).
        p_on: float [O] probability of each output word with the full prompt.
        p_off: float [O] the same with retrieval off.
        labels: ``"pre-training"``, ``"retrieval"`` or ``"neither"`` per output word.
        params: the parameters used.
    """

    words: tuple[str, ...]
    word_source: tuple[str, ...]
    outputs: tuple[str, ...]
    beta_on: np.ndarray
    beta_off: np.ndarray
    p_on: np.ndarray
    p_off: np.ndarray
    labels: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def table(self) -> list[dict[str, Any]]:
        """One plain row per output word: label, probabilities and the most influential input word."""
        rows = []
        for o, word in enumerate(self.outputs):
            top = int(np.nanargmax(self.beta_on[o])) if len(self.words) else -1
            rows.append(
                {
                    "output": word,
                    "label": self.labels[o],
                    "p_on": float(self.p_on[o]),
                    "p_off": float(self.p_off[o]),
                    "top_word": self.words[top] if top >= 0 else "",
                    "top_source": self.word_source[top] if top >= 0 else "",
                }
            )
        return rows

    def __repr__(self) -> str:
        pairs = ", ".join(f"{w}:{lab}" for w, lab in zip(self.outputs, self.labels))
        return f"SourceAttribution({len(self.words)} words, {pairs})"


def sample_masks(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Bool [n, length] keep masks, each word kept with probability ½ and at least one word kept."""
    masks = rng.random((n, length)) < 0.5
    empty = ~masks.any(axis=1)
    masks[empty, rng.integers(length, size=int(empty.sum()))] = True
    return masks


def ridge(masks: np.ndarray, responses: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Ridge coefficients [O, W] of responses [N, O] on masks [N, W] (both centred, so no intercept)."""
    m = masks.astype(np.float64)
    m = m - m.mean(0)
    r = responses - responses.mean(0)
    gram = m.T @ m + alpha * np.eye(m.shape[1])
    return np.linalg.solve(gram, m.T @ r).T


def _prompts(words: list[str], masks: np.ndarray) -> list[str]:
    return [" ".join(w for w, keep in zip(words, row) if keep) for row in masks]


def sma(
    score_fn: Callable[[list[str]], Any],
    sources: Sequence[Source],
    outputs: Sequence[str],
    n: int = 64,
    alpha: float = 1.0,
    tau: float = 0.1,
    known: float = 0.5,
    seed: int = 0,
) -> SourceAttribution:
    """Attribute output words to prompt sources, with retrieval on and off.

    Args:
        score_fn: prompt texts [B] → probabilities [B, O] of the output words (teacher-forced).
        sources: the sources the prompt is built from, in order.
        outputs: display strings of the output words ``score_fn`` scores.
        n: perturbations per run (the paper: 60–80 works best).
        alpha: ridge penalty.
        tau: influence threshold (summed β) for "retrieval" and "pre-training".
        known: probability without retrieval above which a word counts as known.
        seed: seed of the masks.

    Returns:
        The SourceAttribution.

    Raises:
        ValueError: for no sources, no retrieved source, bad ``n`` or a score shape that does not match.
    """
    if not sources:
        raise ValueError("sources: give at least one source")
    if not any(s.retrieved for s in sources):
        raise ValueError("sources: mark at least one source as retrieved (retrieved=True)")
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n: expected an int >= 2, got {n!r}")
    words = [w for s in sources for w in s.text.split()]
    owner = [s.name for s in sources for _ in s.text.split()]
    retrieved = np.array([s.retrieved for s in sources for _ in s.text.split()])
    off_prefix = {s.name: s.off for s in sources if s.retrieved}
    rng = np.random.default_rng(seed)

    def scores(texts: list[str]) -> np.ndarray:
        out = np.asarray(score_fn(texts), dtype=np.float64)
        if out.shape != (len(texts), len(outputs)):
            raise ValueError(f"score_fn: returned shape {out.shape}, expected {(len(texts), len(outputs))}")
        return out

    masks = sample_masks(n, len(words), rng)
    beta_on = ridge(masks, scores(_prompts(words, masks)), alpha)
    # retrieval off: retrieved words replaced by each source's stand-in text, the rest perturbed alike
    kept = [i for i in range(len(words)) if not retrieved[i]]
    off_text = " ".join(t for t in off_prefix.values() if t)
    off_words = [words[i] for i in kept]
    off_masks = masks[:, kept] if kept else np.ones((n, 0), dtype=bool)
    off_prompts = [(off_text + " " + p).strip() for p in _prompts(off_words, off_masks)]
    beta_off = np.full_like(beta_on, np.nan)
    if kept:
        beta_off[:, kept] = ridge(off_masks, scores(off_prompts), alpha)
    full = scores([" ".join(words), (off_text + " " + " ".join(off_words)).strip()])
    p_on, p_off = full[0], full[1]
    labels = []
    for o, word in enumerate(outputs):
        if word.strip().lower() in STOP_WORDS:
            labels.append("neither")
        elif p_off[o] >= known and np.nansum(np.abs(beta_off[o])) >= tau:
            labels.append("pre-training")
        elif beta_on[o, retrieved].sum() >= tau:
            labels.append("retrieval")
        else:
            labels.append("neither")
    params = {"n": n, "alpha": alpha, "tau": tau, "known": known, "seed": seed}
    return SourceAttribution(
        tuple(words), tuple(owner), tuple(outputs), beta_on, beta_off, p_on, p_off, tuple(labels), params
    )


def model_scorer(
    model: Any, gen: Any, positions: Sequence[int] | None = None, sigma: float = 0.0, seed: int = 0
) -> Any:
    """A ``score_fn`` over a ScoringModel's ``score_text``; with ``sigma > 0`` the image gets Gaussian noise.

    SMA perturbs images with pixel noise rather than masks (σ ≈ 50 worked best in the paper).
    """
    import dataclasses

    if sigma < 0:
        raise ValueError(f"sigma: expected a non-negative number, got {sigma!r}")
    target = gen
    if sigma > 0:
        rng = np.random.default_rng(seed)
        noisy = np.clip(gen.image.astype(np.float64) + rng.normal(0, sigma, gen.image.shape), 0, 255).astype(np.uint8)
        target = dataclasses.replace(gen, image=noisy)
    pos = list(range(gen.n_generated)) if positions is None else list(positions)

    def score_fn(texts: list[str]) -> np.ndarray:
        out = model.score_text(target, [t if t.strip() else "." for t in texts], positions=pos)
        return np.asarray(out.detach().cpu() if hasattr(out, "detach") else out, dtype=np.float64)

    return score_fn


__all__ = ["STOP_WORDS", "Source", "SourceAttribution", "model_scorer", "ridge", "sample_masks", "sma"]
