"""Capture unmasked pre-softmax attention logits (float64) from Hugging Face models.

Two routes, both scoped and always undone in ``finally``:

1. **A registered attention function** (``transformers.AttentionInterface``): the model is switched to
   ``"xattr_capture"``, which records ``q·kᵀ·scaling`` (post-rotary, GQA-expanded, *before* the mask) and then
   delegates to SDPA, so outputs are unchanged. Models on the interface include Llama, Qwen2/3, Mistral,
   GPT-NeoX, SmolLM3 and DeepSeek-V3.
2. **Wrapping the modeling module's ``apply_rotary_pos_emb``** (and DeepSeek's ``…_interleave``; both are
   call-time lookups): records the pre- and post-rotary q/k. With route 1 this gives the logits *without*
   positional coupling (the same q/k left unrotated) and the per-frequency RoPE energy; on its own (a
   rotary model without the interface) it is the fallback that rebuilds the logits from the post-rotary q/k
   (only where the whole head goes through RoPE; MLA and partial rotary need route 1).

The RoPE layout (rotate-half vs interleaved) is not assumed: it is inferred by checking which layout, with
the model's own ``rotary_emb.inv_freq``, reproduces the recorded rotation.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from xattr_lab.diagnostics.spectral.kernels import ROPE_LAYOUTS

CAPTURE_NAME = "xattr_capture"


@dataclass(frozen=True, eq=False)
class CapturedLogits:
    """Batch-averaged logits of every (layer, head).

    Attributes:
        logits: (L, H, T, T) mean unmasked pre-softmax logits.
        logits_without: (L, H, T, T) the same without positional coupling, or None if unknown.
        rope_energy: (L, H, K) mean per-frequency energy ‖C_k‖²_F of the rotary part, or None.
        info: how the logits were captured (route, layout, T, number of sequences …).
    """

    logits: np.ndarray
    logits_without: np.ndarray | None = None
    rope_energy: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _rotate(x: torch.Tensor, inv_freq: torch.Tensor, layout: str) -> torch.Tensor:
    """RoPE on the first 2K dims of (…, T, d) for positions 0..T−1."""
    K = inv_freq.shape[0]
    pos = torch.arange(x.shape[-2], dtype=torch.float64)
    ang = pos[:, None] * inv_freq.double()[None]
    cos, sin = torch.cos(ang), torch.sin(ang)
    x = x.double()
    out = x.clone()
    if layout == "rotate_half":
        a, b = x[..., :K], x[..., K : 2 * K]
        out[..., :K], out[..., K : 2 * K] = a * cos - b * sin, b * cos + a * sin
    else:
        a, b = x[..., 0 : 2 * K : 2], x[..., 1 : 2 * K : 2]
        out[..., 0 : 2 * K : 2], out[..., 1 : 2 * K : 2] = a * cos - b * sin, b * cos + a * sin
    return out


def infer_rope_layout(x_in: torch.Tensor, x_out: torch.Tensor, inv_freq: torch.Tensor) -> str | None:
    """Which layout turns ``x_in`` into ``x_out`` with these frequencies (None when neither does)."""
    errs = {}
    for layout in ROPE_LAYOUTS:
        pred = _rotate(x_in, inv_freq, layout)
        errs[layout] = float((pred - x_out.double()).abs().max() / (x_out.double().abs().max() + 1e-12))
    best = min(errs, key=errs.get)
    return best if errs[best] < 1e-3 else None


def find_inv_freq(model: torch.nn.Module) -> torch.Tensor | None:
    """The model's own rotary ``inv_freq`` (llama3/yarn scaling change it, so never recompute it)."""
    for name, buf in model.named_buffers():
        if name.endswith("rotary_emb.inv_freq"):
            return buf.detach().double().cpu()
    for module in model.modules():
        inv = getattr(module, "inv_freq", None)
        if isinstance(inv, torch.Tensor):
            return inv.detach().double().cpu()
    return None


def _expand_heads(k: torch.Tensor, n_heads: int) -> torch.Tensor:
    # GQA/MQA and DeepSeek's shared rope key have fewer key heads than query heads.
    return k.repeat_interleave(n_heads // k.shape[1], dim=1) if k.shape[1] != n_heads else k


class _Recorder:
    """Accumulates per-layer sums over the batch; one instance per capture call."""

    def __init__(self, inv_freq: torch.Tensor | None) -> None:
        self.inv_freq = inv_freq
        self.sum: dict[int, torch.Tensor] = {}
        self.sum_without: dict[int, torch.Tensor] = {}
        self.energy: dict[int, torch.Tensor] = {}
        self.count: dict[int, int] = {}
        self.pending: tuple[torch.Tensor, ...] | None = None
        self.layout: str | None = None
        self.rotary_calls = 0

    def on_rotary(self, q_in, k_in, q_out, k_out) -> None:
        self.pending = tuple(t.detach() for t in (q_in, k_in, q_out, k_out))
        self.rotary_calls += 1

    def _add(self, store: dict[int, torch.Tensor], layer: int, value: torch.Tensor) -> None:
        store[layer] = store[layer] + value if layer in store else value

    def on_attention(self, layer: int, query: torch.Tensor, key: torch.Tensor, scaling: float) -> None:
        q, k = query.detach().double(), _expand_heads(key.detach().double(), query.shape[1])
        S = q @ k.transpose(-1, -2) * scaling  # unmasked: the mask is added later by the delegate
        self._add(self.sum, layer, S.sum(0))
        self.count[layer] = self.count.get(layer, 0) + S.shape[0]
        if self.pending is not None:
            self._rotary_terms(layer, S, scaling)
            self.pending = None

    def _rotary_terms(self, layer: int, S: torch.Tensor, scaling: float) -> None:
        q_in, k_in, q_out, k_out = (t.double() for t in self.pending)
        H = S.shape[1]
        k_in, k_out = _expand_heads(k_in, H), _expand_heads(k_out, H)
        # Only the dims that went through the rotary function change; subtracting their rotated logits and
        # adding the unrotated ones gives the same q/k without positional coupling (also for MLA, where only
        # the rope part is rotated).
        delta = (q_out @ k_out.transpose(-1, -2) - q_in @ k_in.transpose(-1, -2)) * scaling
        self._add(self.sum_without, layer, (S - delta).sum(0))
        if self.inv_freq is None:
            return
        if self.layout is None:
            self.layout = infer_rope_layout(q_in, q_out, self.inv_freq)
        if self.layout is None:
            return
        K = self.inv_freq.shape[0]
        if self.layout == "rotate_half":
            zq, zk = (
                torch.complex(q_in[..., :K], q_in[..., K : 2 * K]),
                torch.complex(k_in[..., :K], k_in[..., K : 2 * K]),
            )
        else:
            zq = torch.complex(q_in[..., 0 : 2 * K : 2], q_in[..., 1 : 2 * K : 2])
            zk = torch.complex(k_in[..., 0 : 2 * K : 2], k_in[..., 1 : 2 * K : 2])
        # C_k = scale·z_q z_kᴴ is rank one, so ‖C_k‖²_F = scale²·‖z_q,k‖²·‖z_k,k‖² — no T×T matrix needed.
        energy = scaling**2 * (zq.abs() ** 2).sum(-2) * (zk.abs() ** 2).sum(-2)
        self._add(self.energy, layer, energy.sum(0))


def _unpermute(x: torch.Tensor) -> torch.Tensor:
    """Undo DeepSeek's interleave→half permutation, so outputs line up with the interleaved inputs."""
    d = x.shape[-1]
    return x.reshape(*x.shape[:-1], 2, d // 2).transpose(-1, -2).reshape(x.shape)


# Module-level rotary functions that may be wrapped, and whether their outputs come back permuted.
_ROTARY_FUNCTIONS = {"apply_rotary_pos_emb": False, "apply_rotary_pos_emb_interleave": True}


def _patch_rotary(model: torch.nn.Module, recorder: _Recorder) -> list[tuple[Any, str, Any]]:
    """Wrap the rotary functions in every modeling module the model's layers come from."""
    patched = []
    seen = set()
    for module in model.modules():
        mod = sys.modules.get(type(module).__module__)
        if mod is None or id(mod) in seen:
            continue
        seen.add(id(mod))
        for fname, permuted in _ROTARY_FUNCTIONS.items():
            original = getattr(mod, fname, None)
            if not callable(original):
                continue

            def wrapped(q, k, *args, _orig=original, _perm=permuted, **kwargs):
                q_out, k_out = _orig(q, k, *args, **kwargs)
                if _perm:
                    recorder.on_rotary(q, k, _unpermute(q_out), _unpermute(k_out))
                else:
                    recorder.on_rotary(q, k, q_out, k_out)
                return q_out, k_out

            setattr(mod, fname, wrapped)
            patched.append((mod, fname, original))
    return patched


def _register_capture(recorder_ref: list) -> bool:
    try:
        from transformers import AttentionInterface
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
    except ImportError:
        return False

    def capture(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        scale = scaling if scaling is not None else query.shape[-1] ** -0.5
        if recorder_ref:
            recorder_ref[0].on_attention(int(getattr(module, "layer_idx", 0)), query, key, scale)
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )

    AttentionInterface.register(CAPTURE_NAME, capture)
    return True


# The registered function reads the active recorder from here, so registration happens once per process.
_ACTIVE: list[_Recorder] = []


def capture_hf_logits(
    model: torch.nn.Module, input_ids: torch.Tensor, batch_size: int = 8, route: str = "auto"
) -> CapturedLogits:
    """Run ``model`` on ``input_ids`` and return batch-averaged unmasked logits per layer and head.

    Args:
        model: a transformers model (built from a config or loaded locally); left unchanged afterwards.
        input_ids: (N, T) token ids; positions are 0..T−1 (no cache, no padding).
        batch_size: sequences per forward pass.
        route: ``"auto"`` (attention interface, else the rotary fallback), ``"interface"`` or ``"rotary"``.

    Returns:
        The captured logits (float64).

    Raises:
        ValueError: bad ``input_ids``/``route``, or a model that neither route can capture.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_ids, torch.Tensor) or input_ids.ndim != 2:
        raise ValueError(f"input_ids: expected an (N, T) integer tensor, got {getattr(input_ids, 'shape', input_ids)}")
    if route not in ("auto", "interface", "rotary"):
        raise ValueError(f"route: expected 'auto', 'interface' or 'rotary', got {route!r}")
    recorder = _Recorder(find_inv_freq(model))
    config = getattr(model, "config", None)
    old_impl = getattr(config, "_attn_implementation", None)
    use_interface = route != "rotary" and hasattr(model, "set_attn_implementation") and _register_capture(_ACTIVE)
    patched: list[tuple[Any, str, Any]] = []
    was_training = model.training
    switched = False
    try:
        if use_interface:
            try:
                model.set_attn_implementation(CAPTURE_NAME)
                switched = True
            except (ValueError, NotImplementedError, AttributeError, TypeError):
                if route == "interface":
                    raise ValueError("model: does not accept a custom attention function (route='interface')") from None
        patched = _patch_rotary(model, recorder)
        if not switched and not patched:
            raise ValueError(
                "model: cannot capture its logits (no AttentionInterface support and no module-level "
                "apply_rotary_pos_emb); use xattr_lab.diagnostics.pe models or eager output_attentions"
            )
        _ACTIVE.clear()
        _ACTIVE.append(recorder)
        model.eval()
        rot_store: dict[int, list] = {}
        with torch.no_grad():
            for start in range(0, input_ids.shape[0], batch_size):
                chunk = input_ids[start : start + batch_size]
                if switched:
                    model(input_ids=chunk, use_cache=False)
                else:
                    _fallback_forward(model, chunk, recorder, rot_store)
    finally:
        _ACTIVE.clear()
        for mod, fname, original in reversed(patched):
            setattr(mod, fname, original)
        if switched and old_impl is not None:
            model.set_attn_implementation(old_impl)
        model.train(was_training)
    return _finish(recorder, input_ids, "interface" if switched else "rotary")


def _fallback_forward(model, chunk, recorder: _Recorder, rot_store) -> None:
    """Without the interface: rebuild the logits from the post-rotary q/k of each rotary call."""
    layer_counter = [0]
    original = recorder.on_rotary

    def on_rotary(q_in, k_in, q_out, k_out):
        original(q_in, k_in, q_out, k_out)
        layer = layer_counter[0]
        layer_counter[0] += 1
        scale = q_out.shape[-1] ** -0.5
        attn = _attention_modules(model)
        module = attn[layer] if layer < len(attn) else None
        head_dim = getattr(module, "qk_head_dim", None) or getattr(module, "head_dim", None)
        if head_dim is not None and q_out.shape[-1] != head_dim:
            # Only part of q/k goes through RoPE (MLA, partial rotary): the rest of the logits is not seen here.
            raise ValueError(
                f"route: 'rotary' sees {q_out.shape[-1]} of {head_dim} head dims (partial rotary or MLA); "
                "use route='interface'"
            )
        if layer < len(attn) and getattr(attn[layer], "scaling", None) is not None:
            scale = float(attn[layer].scaling)
        recorder.on_attention(layer, q_out, k_out, scale)

    recorder.on_rotary = on_rotary
    try:
        model(input_ids=chunk, use_cache=False)
    finally:
        recorder.on_rotary = original


def _attention_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if hasattr(m, "layer_idx") and hasattr(m, "scaling")]


def _finish(rec: _Recorder, input_ids: torch.Tensor, route: str) -> CapturedLogits:
    if not rec.sum:
        raise ValueError("model: no attention call was captured (is it an attention model?)")
    layers = sorted(rec.sum)
    logits = np.stack([(rec.sum[i] / rec.count[i]).numpy() for i in layers])
    without = (
        np.stack([(rec.sum_without[i] / rec.count[i]).numpy() for i in layers])
        if len(rec.sum_without) == len(layers)
        else None
    )
    energy = (
        np.stack([(rec.energy[i] / rec.count[i]).numpy() for i in layers]) if len(rec.energy) == len(layers) else None
    )
    info = {
        "route": route,
        "layers": layers,
        "seq_len": int(input_ids.shape[1]),
        "n_sequences": int(input_ids.shape[0]),
        "rope_layout": rec.layout,
        "inv_freq": rec.inv_freq.tolist() if rec.inv_freq is not None else None,
    }
    return CapturedLogits(logits=logits, logits_without=without, rope_energy=energy, info=info)
