"""Synthetic tasks for the PE experiments (spec A4), on integer vocabularies, fixed length (no padding).

* **trigger distance** (content and position coupled): two fixed trigger tokens are placed M fillers
  apart after a random prefix; the label is M. The model must find *which* tokens are triggers (content) and
  *how far apart* they are (position).
* **trigger counting** (position-independent): n trigger tokens (from a set of trigger ids) shuffled among
  fillers; the label is n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class TaskData:
    """Token sequences and labels of one task, split 70/30."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    vocab_size: int
    n_classes: int

    @property
    def chance(self) -> float:
        """Accuracy of always predicting the most frequent test label."""
        return float(torch.bincount(self.y_test, minlength=self.n_classes).max() / self.y_test.numel())


def _split(name: str, x: np.ndarray, y: np.ndarray, vocab: int, n_classes: int, seed: int) -> TaskData:
    x, idx = np.unique(x, axis=0, return_index=True)  # deduplicate, as the reference generator does
    y = y[idx]
    perm = np.random.default_rng(seed + 1).permutation(len(y))
    n_train = int(0.7 * len(y))
    tr, te = perm[:n_train], perm[n_train:]
    as_t = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    return TaskData(name, as_t(x[tr]), as_t(y[tr]), as_t(x[te]), as_t(y[te]), vocab, n_classes)


def trigger_distance(
    n: int = 5000, vocab_size: int = 256, seq_len: int = 64, max_prefix: int = 8, seed: int = 0
) -> TaskData:
    """Trigger-distance task.

    Args:
        n: samples before deduplication.
        vocab_size: tokens; the last two ids are the triggers, fillers are drawn from the rest.
        seq_len: fixed length T.
        max_prefix: the first trigger sits at a random position in ``1..max_prefix``.
        seed: random seed.

    Returns:
        The data; labels are the gap M in ``1..T−max_prefix−2`` (class index M).
    """
    if seq_len < max_prefix + 4 or vocab_size < 4:
        raise ValueError(
            f"seq_len, vocab_size: need seq_len >= max_prefix + 4 and vocab >= 4, got {seq_len}, {vocab_size}"
        )
    rng = np.random.default_rng(seed)
    w1, w2 = vocab_size - 2, vocab_size - 1
    x = rng.integers(0, vocab_size - 2, size=(n, seq_len))
    start = rng.integers(1, max_prefix + 1, size=n)
    max_gap = seq_len - max_prefix - 2
    gap = rng.integers(1, max_gap + 1, size=n)
    rows = np.arange(n)
    x[rows, start] = w1
    x[rows, start + gap + 1] = w2
    return _split("trigger_distance", x, gap, vocab_size, max_gap + 1, seed)


def trigger_count(
    n: int = 5000,
    vocab_size: int = 256,
    seq_len: int = 64,
    n_trigger_ids: int = 16,
    max_count: int = 24,
    seed: int = 0,
) -> TaskData:
    """Trigger-counting task: label = number of trigger tokens (ids ``vocab−n_trigger_ids … vocab−1``)."""
    if max_count > seq_len or n_trigger_ids >= vocab_size:
        raise ValueError(
            "max_count, n_trigger_ids: need max_count <= seq_len and n_trigger_ids < vocab, "
            f"got {max_count}, {n_trigger_ids}"
        )
    rng = np.random.default_rng(seed)
    fill = vocab_size - n_trigger_ids
    x = rng.integers(0, fill, size=(n, seq_len))
    count = rng.integers(0, max_count + 1, size=n)
    for i in range(n):
        pos = rng.choice(seq_len, size=count[i], replace=False)
        x[i, pos] = rng.integers(fill, vocab_size, size=count[i])
    return _split("trigger_count", x, count, vocab_size, max_count + 1, seed)


TASKS = {"trigger_distance": trigger_distance, "trigger_count": trigger_count}
