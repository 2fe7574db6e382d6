"""Single-head deposit: ablate each attention head and measure the accuracy drop (spec A3).

Ablation happens on the *input of the output projection* (the concatenated per-head context), through a
forward pre-hook that zeroes head h or replaces it with its mean over a reference batch. This is the
correct cut — the reference MLA script zeroed latent input columns of W_UQ/W_UK/W_UV instead, which removes
dimensions shared by all heads and, past head 7, nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from xattr_lab.diagnostics._stats import effective_number, gini

_OUT_PROJ_SUFFIXES = ("self_attn.o_proj", "attention.dense", "self_attention.dense", "attn.o_proj")


def deposit_summary(drop: np.ndarray, base_acc: float, chance: float = 0.0) -> dict[str, Any]:
    """Concentration of the ablation drops Δ (L, H).

    Returns:
        ``deposit_share`` D = max p_h with p = Δ⁺/ΣΔ⁺; ``n_eff_heads`` = exp(H(p)); ``gini`` of Δ⁺;
        ``max_norm_drop`` = max Δ / (base − chance); ``deposit_layer``/``deposit_head`` of the max; and
        ``deposit`` — True when D > 0.5 and the normalised drop > 0.5 in a layer ≤ 1, for a model at least
        5 points above chance (the drops of a model at chance are noise).
    """
    d = np.asarray(drop, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError(f"drop: expected an (L, H) matrix, got shape {d.shape}")
    pos = np.clip(d, 0.0, None)
    total = pos.sum()
    share = float(pos.max() / total) if total > 0 else 0.0
    l, h = (int(i) for i in np.unravel_index(np.argmax(d), d.shape))
    margin = base_acc - chance
    norm = float(d.max() / margin) if margin > 0 else float("nan")
    return {
        "deposit_share": share,
        "n_eff_heads": effective_number(pos),
        "gini": gini(pos),
        "max_drop": float(d.max()),
        "max_norm_drop": norm,
        "deposit_layer": l,
        "deposit_head": h,
        "deposit": bool(share > 0.5 and norm > 0.5 and l <= 1 and margin > 0.05),
        "base_acc": float(base_acc),
        "chance": float(chance),
    }


def find_out_projections(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The per-layer attention output projections, in layer order."""
    found = [(n, m) for n, m in model.named_modules() if n.endswith(_OUT_PROJ_SUFFIXES)]
    if not found:
        raise ValueError(
            f"model: no attention output projection found (looked for names ending in {_OUT_PROJ_SUFFIXES})"
        )
    return found


def _n_heads(model: torch.nn.Module) -> int:
    cfg = getattr(model, "config", None)
    for source in (cfg, getattr(model, "config_dict", None)):
        if isinstance(source, dict) and "n_heads" in source:
            return int(source["n_heads"])
        if source is not None and hasattr(source, "num_attention_heads"):
            return int(source.num_attention_heads)
    raise ValueError("n_heads: cannot infer the number of heads; pass n_heads=")


class HeadAblation:
    """Zero- or mean-ablate every head in turn and record the drop of a metric (L × H).

    Args:
        mode: ``"zero"`` or ``"mean"`` (replace the head's context by its mean over the evaluation batch,
            per position).
        n_eval: subsample this many examples (L·H evaluations are needed).
        n_heads: heads per layer (inferred from the model's config by default).
        seed: seed of the subsample.

    After :meth:`fit`: ``base_`` (unablated metric), ``scores_`` (L, H), ``drop_`` (L, H) and ``summary_``.
    """

    def __init__(self, mode: str = "zero", n_eval: int = 2000, n_heads: int | None = None, seed: int = 0) -> None:
        self.mode, self.n_eval, self.n_heads, self.seed = mode, n_eval, n_heads, seed

    def fit(
        self,
        model: torch.nn.Module,
        x: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        metric: Callable[[torch.nn.Module], float] | None = None,
        chance: float = 0.0,
    ) -> HeadAblation:
        """Ablate and evaluate; returns ``self``.

        Args:
            model: a classifier ``model(x) -> logits`` (or any model with ``metric``).
            x: inputs for accuracy (with ``y``).
            y: labels.
            metric: ``metric(model) -> float`` used instead of accuracy on (x, y).
            chance: chance level of the metric (for the normalised drop).
        """
        if self.mode not in ("zero", "mean"):
            raise ValueError(f"mode: expected 'zero' or 'mean', got {self.mode!r}")
        if metric is None:
            if x is None or y is None:
                raise ValueError("x, y: give both, or a metric")
            if len(x) > self.n_eval:
                idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed))[: self.n_eval]
                x, y = x[idx], y[idx]
            from xattr_lab.diagnostics.pe.train import accuracy

            metric = lambda m: accuracy(m, x, y)  # noqa: E731
            if self.mode == "mean":
                self._probe = x
        elif self.mode == "mean" and x is None:
            raise ValueError("x: mean ablation needs reference inputs x to average over")
        else:
            self._probe = x
        H = self.n_heads or _n_heads(model)
        projs = find_out_projections(model)
        means = self._means(model, projs) if self.mode == "mean" else None
        self.base_ = float(metric(model))
        scores = np.empty((len(projs), H))
        for l, (_, proj) in enumerate(projs):
            for h in range(H):
                handle = proj.register_forward_pre_hook(self._hook(h, H, None if means is None else means[l]))
                try:
                    scores[l, h] = float(metric(model))
                finally:
                    handle.remove()
        self.scores_ = scores
        self.drop_ = self.base_ - scores
        self.summary_ = {**deposit_summary(self.drop_, self.base_, chance), "mode": self.mode}
        return self

    @staticmethod
    def _hook(h: int, H: int, mean: torch.Tensor | None):
        def pre_hook(module, args):
            (z, *rest) = args
            shaped = z.view(*z.shape[:-1], H, z.shape[-1] // H).clone()
            if mean is None:
                shaped[..., h, :] = 0.0
            else:
                m = mean.view(*mean.shape[:-1], H, -1)[..., h, :]
                shaped[..., h, :] = m[: shaped.shape[-3]] if m.dim() == 2 else m
            return (shaped.view_as(z), *rest)

        return pre_hook

    @torch.no_grad()
    def _means(self, model, projs) -> list[torch.Tensor]:
        store: list[torch.Tensor | None] = [None] * len(projs)
        handles = []
        for l, (_, proj) in enumerate(projs):

            def grab(module, args, _l=l):
                store[_l] = args[0].detach().mean(dim=0)  # (T, D): per-position mean over the batch

            handles.append(proj.register_forward_pre_hook(grab))
        try:
            model.eval()
            model(self._probe.to(next(model.parameters()).device))
        finally:
            for handle in handles:
                handle.remove()
        return [m for m in store]
