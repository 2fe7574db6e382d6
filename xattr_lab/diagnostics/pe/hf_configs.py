"""Random-init transformers models per PE scheme (spec A5), built from config classes — never downloaded.

Only the schemes whose attention runs through ``AttentionInterface`` or a module-level
``apply_rotary_pos_emb`` can be captured by :func:`~xattr_lab.diagnostics.spectral.capture.capture_hf_logits`:
``rope`` (Llama), ``nope`` (SmolLM3 with every layer NoPE) and ``mla`` (DeepSeek-V3, dense). For the additive
schemes (ALiBi, T5, sinusoidal, learned) use :class:`~xattr_lab.diagnostics.pe.models.PETransformer`, whose
bias is known exactly.
"""

from __future__ import annotations

from typing import Any

HF_SCHEMES = ("rope", "nope", "mla")


def hf_model(
    scheme: str, d_model: int = 64, n_heads: int = 4, n_layers: int = 2, vocab_size: int = 128, **overrides: Any
):
    """A small causal LM with the given positional scheme, random init, in float32 and eval mode.

    Args:
        scheme: ``"rope"``, ``"nope"`` or ``"mla"``.
        d_model: hidden size.
        n_heads: attention heads.
        n_layers: layers.
        vocab_size: vocabulary.
        **overrides: extra config fields (e.g. ``rope_theta``).

    Returns:
        The model.
    """
    import transformers as tf

    common = dict(
        hidden_size=d_model, num_attention_heads=n_heads, num_key_value_heads=n_heads, num_hidden_layers=n_layers,
        intermediate_size=2 * d_model, vocab_size=vocab_size, max_position_embeddings=1024,
    )  # fmt: skip
    if scheme == "rope":
        cfg = tf.LlamaConfig(**common, **overrides)
        return tf.LlamaForCausalLM(cfg).eval()
    if scheme == "nope":
        cfg = tf.SmolLM3Config(
            **common, no_rope_layers=[0] * n_layers, pad_token_id=0, bos_token_id=1, eos_token_id=2, **overrides
        )  # 0 = NoPE layer
        return tf.SmolLM3ForCausalLM(cfg).eval()
    if scheme == "mla":
        dh = d_model // n_heads
        cfg = tf.DeepseekV3Config(
            **{**common, "num_key_value_heads": n_heads},
            q_lora_rank=None, kv_lora_rank=max(dh, d_model // 2), qk_nope_head_dim=dh, qk_rope_head_dim=max(2, dh // 2),
            v_head_dim=dh, first_k_dense_replace=n_layers, n_routed_experts=4, num_experts_per_tok=2,
            moe_intermediate_size=d_model, **overrides,
        )  # fmt: skip
        return tf.DeepseekV3ForCausalLM(cfg).eval()
    raise ValueError(f"scheme: expected one of {HF_SCHEMES} for a transformers model, got {scheme!r}")
