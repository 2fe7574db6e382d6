"""Small trainable transformers with pluggable positional encoding (spec A1, A5).

One encoder (pre-LN, bidirectional, mean-pooled classifier — the protocol of the deposit experiments) whose
attention takes the positional coupling as a strategy:

========== ======================================================================================
``nope``   content only
``sinusoidal`` / ``learned``  absolute vectors added to the embeddings (4-term logits)
``rope``   multiplicative: q/k rotated per frequency (rotate-half layout, like HF Llama)
``alibi``  additive Toeplitz bias ``−m_h·|i−j|`` with Press et al.'s slopes
``t5``     additive learned bias per head over log-spaced relative-position buckets, computed once and
           shared by all layers as in T5 (but, unlike T5, logits keep the 1/√d scale)
``mla``    DeepSeek-style decoupled RoPE: low-rank latent KV for the content part, per-head rope queries
           and a single rope key *shared by all heads*; scale 1/√(d_nope + d_rope)
========== ======================================================================================

Unlike the reference repository, ``rope`` does not also add an absolute encoding, and ALiBi uses Press et
al.'s slopes (spec A3, bugs 2 and 4). Every attention layer has ``o_proj`` taking the concatenated
per-head context, so head ablation works the same way as for HF models.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from xattr_lab.diagnostics.spectral.kernels import alibi_slopes

PE_SCHEMES = ("nope", "sinusoidal", "learned", "rope", "alibi", "t5", "mla")


def rope_inv_freq(dim: int, base: float = 10000.0) -> torch.Tensor:
    """θ_k = base^(−2k/dim), k = 0..dim/2−1."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def rotate(x: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE on the last dim of (…, T, d) for positions 0..T−1 (computed in x's dtype)."""
    T, K = x.shape[-2], inv_freq.shape[0]
    ang = torch.arange(T, dtype=torch.float64, device=x.device)[:, None] * inv_freq.to(x.device)[None]
    cos, sin = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    a, b = x[..., :K], x[..., K:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


def t5_buckets(T: int, num_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """T5's bidirectional relative-position buckets of ``j − i`` as a (T, T) long tensor."""
    pos = torch.arange(T)
    rel = pos[None, :] - pos[:, None]
    nb = num_buckets // 2
    out = (rel > 0).long() * nb
    n = rel.abs()
    max_exact = nb // 2
    large = (
        max_exact
        + (torch.log(n.float().clamp(min=1) / max_exact) / math.log(max_distance / max_exact) * (nb - max_exact)).long()
    )
    large = large.clamp(max=nb - 1)
    return out + torch.where(n < max_exact, n, large)


class PEAttention(nn.Module):
    """Multi-head self-attention with one of the PE strategies; can record its logits in float64."""

    def __init__(self, d_model: int, n_heads: int, pe: str, d_latent: int | None = None) -> None:
        super().__init__()
        self.pe, self.n_heads, self.d_head = pe, n_heads, d_model // n_heads
        dh = self.d_head
        if pe == "mla":
            self.d_rope = max(2, dh // 2)
            d_latent = d_latent or max(dh, d_model // 2)
            self.q_nope = nn.Linear(d_model, n_heads * dh, bias=False)
            self.q_rope = nn.Linear(d_model, n_heads * self.d_rope, bias=False)
            self.kv_down = nn.Linear(d_model, d_latent, bias=False)
            self.k_up = nn.Linear(d_latent, n_heads * dh, bias=False)
            self.v_up = nn.Linear(d_latent, n_heads * dh, bias=False)
            self.k_rope = nn.Linear(d_model, self.d_rope, bias=False)  # one rope key shared by all heads
            self.register_buffer("inv_freq", rope_inv_freq(self.d_rope), persistent=False)
            self.scaling = (dh + self.d_rope) ** -0.5
        else:
            self.qkv = nn.Linear(d_model, 3 * n_heads * dh, bias=False)
            self.scaling = dh**-0.5
            if pe == "rope":
                self.register_buffer("inv_freq", rope_inv_freq(dh), persistent=False)
            if pe == "alibi":
                self.register_buffer("slopes", torch.tensor(alibi_slopes(n_heads)), persistent=False)
        self.o_proj = nn.Linear(n_heads * dh, d_model, bias=False)
        self.record: dict[str, list] | None = None

    def _qk(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(q, k, v, q_pre, k_pre) in (B, H, T, ·); q_pre/k_pre are the unrotated versions."""
        B, T, _ = x.shape
        H, dh = self.n_heads, self.d_head
        if self.pe == "mla":
            qn = self.q_nope(x).view(B, T, H, dh).transpose(1, 2)
            qr = self.q_rope(x).view(B, T, H, self.d_rope).transpose(1, 2)
            c = self.kv_down(x)
            kn = self.k_up(c).view(B, T, H, dh).transpose(1, 2)
            v = self.v_up(c).view(B, T, H, dh).transpose(1, 2)
            kr = self.k_rope(x)[:, None].expand(B, H, T, self.d_rope)
            q_pre, k_pre = torch.cat([qn, qr], -1), torch.cat([kn, kr], -1)
            q = torch.cat([qn, rotate(qr, self.inv_freq)], -1)
            k = torch.cat([kn, rotate(kr, self.inv_freq)], -1)
            return q, k, v, q_pre, k_pre
        q, k, v = self.qkv(x).view(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)
        if self.pe == "rope":
            return rotate(q, self.inv_freq), rotate(k, self.inv_freq), v, q, k
        return q, k, v, q, k

    def bias(self, T: int, t5_bias: torch.Tensor | None) -> torch.Tensor | None:
        """The additive (H, T, T) positional bias, if this scheme has one."""
        if self.pe == "alibi":
            d = torch.arange(T)
            return -self.slopes[:, None, None].float() * (d[:, None] - d[None, :]).abs().float()
        if self.pe == "t5":
            return t5_bias
        return None

    def forward(self, x: torch.Tensor, t5_bias: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the module."""
        B, T, _ = x.shape
        q, k, v, q_pre, k_pre = self._qk(x)
        bias = self.bias(T, t5_bias)
        if self.record is not None:
            self._record(q, k, q_pre, k_pre, bias)
        attn_mask = bias.to(q.dtype)[None] if bias is not None else None
        z = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, scale=self.scaling)
        return self.o_proj(z.transpose(1, 2).reshape(B, T, -1))

    @torch.no_grad()
    def _record(self, q, k, q_pre, k_pre, bias) -> None:
        s = self.scaling
        S = (q.double() @ k.double().transpose(-1, -2)) * s
        S0 = (q_pre.double() @ k_pre.double().transpose(-1, -2)) * s
        if bias is not None:
            S = S + bias.double()[None]
        self.record["S"].append(S.sum(0).cpu())
        self.record["S0"].append(S0.sum(0).cpu())
        self.record["n"].append(S.shape[0])
        if self.pe in ("rope", "mla"):
            K = self.inv_freq.shape[0]
            qr, kr = (q_pre[..., -2 * K :].double(), k_pre[..., -2 * K :].double())
            zq, zk = torch.complex(qr[..., :K], qr[..., K:]), torch.complex(kr[..., :K], kr[..., K:])
            self.record["E"].append((s**2 * (zq.abs() ** 2).sum(-2) * (zk.abs() ** 2).sum(-2)).sum(0).cpu())


def sinusoidal_table(T: int, d: int) -> torch.Tensor:
    """Vaswani et al.'s sinusoidal absolute encoding (T, d)."""
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    div = 10000.0 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos / div), torch.cos(pos / div)
    return pe.float()


class PEBlock(nn.Module):
    """Pre-LN block: attention then a GELU MLP."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, pe: str, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.self_attn = PEAttention(d_model, n_heads, pe)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, t5_bias: torch.Tensor | None) -> torch.Tensor:
        """Apply the module."""
        x = x + self.drop(self.self_attn(self.ln1(x), t5_bias))
        return x + self.drop(self.mlp(self.ln2(x)))


class PETransformer(nn.Module):
    """Encoder classifier with a pluggable positional encoding.

    Args:
        vocab_size: token vocabulary.
        n_classes: output classes (the mean-pooled sequence is classified).
        pe: one of :data:`PE_SCHEMES`.
        d_model: width.
        n_heads: heads per layer.
        n_layers: blocks.
        d_ff: MLP width.
        max_len: longest sequence (absolute tables and the T5 buckets are built for it).
        dropout: dropout rate.
    """

    def __init__(
        self,
        vocab_size: int,
        n_classes: int,
        pe: str = "rope",
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        d_ff: int = 128,
        max_len: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if pe not in PE_SCHEMES:
            raise ValueError(f"pe: expected one of {PE_SCHEMES}, got {pe!r}")
        if d_model % n_heads or (d_model // n_heads) % 2:
            raise ValueError(f"d_model: {d_model} must split into {n_heads} heads of even width")
        self.pe, self.vocab_size, self.max_len = pe, vocab_size, max_len
        self.embed = nn.Embedding(vocab_size, d_model)
        if pe == "sinusoidal":
            self.register_buffer("pos_table", sinusoidal_table(max_len, d_model), persistent=False)
        elif pe == "learned":
            # Same scale as the N(0, 1) token embeddings: at GPT-2's 0.02 the positions are ~50x smaller than
            # the tokens here and the CPU preset never learns them.
            self.pos_embed = nn.Parameter(torch.randn(max_len, d_model))
        if pe == "t5":
            self.t5_table = nn.Parameter(torch.randn(32, n_heads) * d_model**-0.5)  # HF T5's init scale
            self.register_buffer("t5_idx", t5_buckets(max_len), persistent=False)
        self.layers = nn.ModuleList([PEBlock(d_model, n_heads, d_ff, pe, dropout) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_classes)
        self.config_dict: dict[str, Any] = dict(
            vocab_size=vocab_size, n_classes=n_classes, pe=pe, d_model=d_model, n_heads=n_heads,
            n_layers=n_layers, d_ff=d_ff, max_len=max_len, dropout=dropout,
        )  # fmt: skip

    def embed_tokens(self, input_ids: torch.Tensor, positional: bool = True) -> torch.Tensor:
        """Token embeddings plus the absolute encoding (if any and ``positional``)."""
        T = input_ids.shape[1]
        if T > self.max_len:
            raise ValueError(f"input_ids: length {T} exceeds max_len={self.max_len}")
        x = self.embed(input_ids)
        if positional and self.pe == "sinusoidal":
            x = x + self.pos_table[:T]
        elif positional and self.pe == "learned":
            x = x + self.pos_embed[:T]
        return x

    def forward(self, input_ids: torch.Tensor, positional: bool = True) -> torch.Tensor:
        """Class logits (B, n_classes). ``positional=False`` drops absolute encodings (for baselines)."""
        T = input_ids.shape[1]
        x = self.embed_tokens(input_ids, positional)
        t5_bias = self.t5_table[self.t5_idx[:T, :T]].permute(2, 0, 1) if self.pe == "t5" else None
        for layer in self.layers:
            x = layer(x, t5_bias)
        return self.head(self.norm(x).mean(dim=1))

    @torch.no_grad()
    def capture_logits(self, input_ids: torch.Tensor, batch_size: int = 32):
        """Batch-averaged unmasked logits per layer/head, with and without positional coupling.

        Without coupling means: RoPE/MLA — the same q/k unrotated; ALiBi/T5 — without the bias; sinusoidal /
        learned — a second pass with the absolute encoding left out (layer 0's q/k then differ only by it).
        """
        from xattr_lab.diagnostics.spectral.capture import CapturedLogits

        attn = [layer.self_attn for layer in self.layers]
        device = self.embed.weight.device
        was_training = self.training
        self.eval()
        stores = [{"S": [], "S0": [], "n": [], "E": []} for _ in attn]
        try:
            for a, store in zip(attn, stores):
                a.record = store
            for start in range(0, input_ids.shape[0], batch_size):
                self(input_ids[start : start + batch_size].to(device))
            if self.pe in ("sinusoidal", "learned"):
                absent = [{"S": [], "S0": [], "n": [], "E": []} for _ in attn]
                for a, store in zip(attn, absent):
                    a.record = store
                for start in range(0, input_ids.shape[0], batch_size):
                    self(input_ids[start : start + batch_size].to(device), positional=False)
                for store, other in zip(stores, absent):
                    store["S0"] = other["S"]
        finally:
            for a in attn:
                a.record = None
            self.train(was_training)
        n = float(sum(stores[0]["n"]))
        logits = np.stack([(sum(s["S"]) / n).numpy() for s in stores])
        without = None if self.pe == "nope" else np.stack([(sum(s["S0"]) / n).numpy() for s in stores])
        energy = np.stack([(sum(s["E"]) / n).numpy() for s in stores]) if stores[0]["E"] else None
        info = {
            "route": "pe_model",
            "pe": self.pe,
            "seq_len": int(input_ids.shape[1]),
            "n_sequences": int(input_ids.shape[0]),
            "rope_layout": "rotate_half" if self.pe in ("rope", "mla") else None,
        }
        return CapturedLogits(logits=logits, logits_without=without, rope_energy=energy, info=info)
