"""Grokfast-style slow-gradient amplifier (Lee et al. 2024, EMA variant).

Each step the gradient g gets ``λ · ema(g)`` added, with ``ema ← α·ema + (1−α)·g``. Amplifying the slow
(low-frequency) part of the gradient speeds up the generalising circuit, which is what cuts the grokking delay
enough for a CPU demo.
"""

from __future__ import annotations

import torch


class GradientEMA:
    """Amplify the slow component of the gradients of ``params`` in place.

    Args:
        params: the parameters whose ``.grad`` is filtered.
        alpha: EMA momentum (0.98 in the paper).
        lamb: amplification λ (2.0 in the paper); 0 disables.
    """

    def __init__(self, params, alpha: float = 0.98, lamb: float = 2.0) -> None:
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha: expected 0 <= alpha < 1, got {alpha!r}")
        if lamb < 0:
            raise ValueError(f"lamb: expected lamb >= 0, got {lamb!r}")
        self.params = [p for p in params if p.requires_grad]
        self.alpha, self.lamb = float(alpha), float(lamb)
        self.ema_: list[torch.Tensor] | None = None

    @torch.no_grad()
    def __call__(self) -> None:
        """Filter the current gradients (call between ``backward()`` and ``optimizer.step()``)."""
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):
            return
        if self.ema_ is None:
            self.ema_ = [g.detach().clone() for g in grads]
        else:
            for e, g in zip(self.ema_, grads):
                e.mul_(self.alpha).add_(g, alpha=1.0 - self.alpha)
        for e, g in zip(self.ema_, grads):
            g.add_(e, alpha=self.lamb)
