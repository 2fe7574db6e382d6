"""Modular-arithmetic data for grokking: operations over a prime field and held-out region splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

OPERATIONS = ("add", "sub", "div", "quad")


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, int(n**0.5) + 1))


def apply_op(a: np.ndarray, b: np.ndarray, p: int, op: str) -> np.ndarray:
    """``a op b mod p`` for the supported operations.

    Args:
        a: first operands in ``[0, p)``.
        b: second operands in ``[0, p)`` (non-zero for ``"div"``).
        p: the prime modulus.
        op: ``"add"`` (a+b), ``"sub"`` (a−b), ``"div"`` (a·b⁻¹) or ``"quad"`` (a²+ab+b²).

    Returns:
        The results, same shape as ``a``.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if op == "add":
        return (a + b) % p
    if op == "sub":
        return (a - b) % p
    if op == "div":
        # Fermat: b^(p-2) is the inverse of b mod p.
        inv = np.array([pow(int(x), p - 2, p) for x in b.ravel()], dtype=np.int64).reshape(b.shape)
        return (a * inv) % p
    if op == "quad":
        return (a * a + a * b + b * b) % p
    raise ValueError(f"op: expected one of {OPERATIONS}, got {op!r}")


@dataclass(frozen=True)
class ModularData:
    """All equations ``a op b = c`` of one task, split into train and test.

    Inputs are token sequences ``[a, b, =]`` with number tokens ``0..p-1`` and ``=`` as token ``p``; the
    label is ``c``. ``grid_index`` maps each row to ``a * p + b`` so measures can rebuild the p×p grid.
    """

    p: int
    op: str
    split: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_all: torch.Tensor
    y_all: torch.Tensor
    train_mask: np.ndarray
    test_mask: np.ndarray

    @property
    def vocab_size(self) -> int:
        """Number tokens plus the ``=`` token."""
        return self.p + 1

    @property
    def train_fraction(self) -> float:
        """Share of all equations in the training set."""
        return float(self.train_mask.mean())


def make_modular_data(
    p: int = 97,
    op: str = "add",
    frac: float = 0.3,
    split: str = "random",
    k: int | None = None,
    seed: int = 0,
) -> ModularData:
    """Build a modular-arithmetic task.

    Args:
        p: prime modulus.
        op: one of ``"add"``, ``"sub"``, ``"div"``, ``"quad"``.
        frac: training fraction for ``split="random"``.
        split: ``"random"`` (uniform), ``"square"`` (pairs with ``a < k and b < k`` held out, as in Gu
            et al.'s ``rec.py``) or ``"strip"`` (pairs with ``a < k`` held out, so tokens ``0..k-1`` never
            appear as the first operand in training, as in ``str.py``).
        k: size of the held-out region for ``square``/``strip`` (defaults to ``p // 2``).
        seed: seed of the random split.

    Returns:
        The data set.
    """
    if not isinstance(p, int) or not _is_prime(p):
        raise ValueError(f"p: expected a prime integer, got {p!r}")
    if op not in OPERATIONS:
        raise ValueError(f"op: expected one of {OPERATIONS}, got {op!r}")
    if split not in ("random", "square", "strip"):
        raise ValueError(f"split: expected 'random', 'square' or 'strip', got {split!r}")
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = b != 0 if op == "div" else np.ones_like(a, dtype=bool)
    c = np.zeros_like(a)
    c[keep] = apply_op(a[keep], b[keep], p, op)
    if split == "random":
        if not 0.0 < frac < 1.0:
            raise ValueError(f"frac: expected a fraction in (0, 1), got {frac!r}")
        rng = np.random.default_rng(seed)
        scores = rng.random(a.shape[0])
        scores[~keep] = 2.0  # never pick a dropped equation
        n_train = int(round(frac * keep.sum()))
        train = np.zeros_like(keep)
        train[np.argsort(scores)[:n_train]] = True
    else:
        k = p // 2 if k is None else int(k)
        if not 0 < k < p:
            raise ValueError(f"k: expected 0 < k < p, got {k!r}")
        held = (a < k) & (b < k) if split == "square" else a < k
        train = keep & ~held
    test = keep & ~train
    x = torch.as_tensor(np.stack([a, b, np.full_like(a, p)], axis=1), dtype=torch.long)
    y = torch.as_tensor(c, dtype=torch.long)
    tr, te = torch.as_tensor(train), torch.as_tensor(test)
    return ModularData(
        p=p,
        op=op,
        split=split,
        x_train=x[tr],
        y_train=y[tr],
        x_test=x[te],
        y_test=y[te],
        x_all=x,
        y_all=y,
        train_mask=train.reshape(p, p),
        test_mask=test.reshape(p, p),
    )
