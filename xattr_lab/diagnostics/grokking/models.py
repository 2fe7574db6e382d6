"""Grokking models: a Nanda-style one-layer transformer (no LayerNorm) and a Power-style decoder."""

from __future__ import annotations

import math

import torch
from torch import nn


class _Attention(nn.Module):
    """Causal multi-head self-attention without biases (Nanda et al.'s ``Attention``)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model: {d_model} is not divisible by n_heads={n_heads}")
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module."""
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        z = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(z.transpose(1, 2).reshape(b, t, -1))


class NandaTransformer(nn.Module):
    """One (or more) attention + ReLU-MLP blocks, no LayerNorm, logits read at the last position.

    Follows Nanda et al. (2023): embeddings ``W_E`` and positions learned, residual stream of width
    ``d_model``; the last-position MLP activations are exposed through :meth:`forward_with_cache` so the
    key-frequency measure can read them.
    """

    def __init__(
        self,
        vocab_size: int,
        n_out: int,
        d_model: int = 128,
        n_heads: int = 4,
        d_mlp: int = 512,
        n_layers: int = 1,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.randn(3, d_model) / math.sqrt(d_model))
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d_model))
        self.attn = nn.ModuleList([_Attention(d_model, n_heads) for _ in range(n_layers)])
        self.mlp_in = nn.ModuleList([nn.Linear(d_model, d_mlp) for _ in range(n_layers)])
        self.mlp_out = nn.ModuleList([nn.Linear(d_mlp, d_model) for _ in range(n_layers)])
        self.unembed = nn.Linear(d_model, n_out, bias=False)

    def forward_with_cache(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits at the last position and the last block's last-position MLP activations."""
        h = self.embed(x) + self.pos[: x.shape[1]]
        last = len(self.attn) - 1
        for i, (attn, w_in, w_out) in enumerate(zip(self.attn, self.mlp_in, self.mlp_out)):
            h = h + attn(h)
            if i == last:
                # Only the last position reaches the logits after the final attention, so the final MLP runs
                # there alone: identical outputs, about half the cost of a training step.
                h = h[:, -1]
            act = torch.relu(w_in(h))
            h = h + w_out(act)
        return self.unembed(h), act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module."""
        return self.forward_with_cache(x)[0]


class PowerTransformer(nn.Module):
    """A small pre-LN causal decoder as in Power et al. (2022): 2 layers, width 128, 4 heads."""

    def __init__(
        self,
        vocab_size: int,
        n_out: int,
        d_model: int = 128,
        n_heads: int = 4,
        d_mlp: int = 512,
        n_layers: int = 2,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(3, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_mlp, dropout=0.0, activation="relu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.unembed = nn.Linear(d_model, n_out, bias=False)

    def forward_with_cache(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits at the last position and the final residual stream there (no MLP cache in this model)."""
        t = x.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=x.device)
        h = self.blocks(self.embed(x) + self.pos[:t], mask=mask, is_causal=True)
        last = self.norm(h[:, -1])
        return self.unembed(last), last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the module."""
        return self.forward_with_cache(x)[0]


def build_grok_model(kind: str, vocab_size: int, n_out: int, **kwargs: int) -> nn.Module:
    """Build a grokking model by name (``"nanda"`` or ``"power"``)."""
    if kind == "nanda":
        return NandaTransformer(vocab_size, n_out, **kwargs)
    if kind == "power":
        return PowerTransformer(vocab_size, n_out, **kwargs)
    raise ValueError(f"model: expected 'nanda' or 'power', got {kind!r}")
