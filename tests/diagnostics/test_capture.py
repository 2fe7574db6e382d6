import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from xattr_lab.diagnostics.spectral import kernels as K  # noqa: E402
from xattr_lab.diagnostics.spectral.analyzer import PESpectrum  # noqa: E402
from xattr_lab.diagnostics.spectral.capture import _ACTIVE, capture_hf_logits, infer_rope_layout  # noqa: E402


@pytest.fixture(scope="module")
def llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        hidden_size=64, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=2,
        intermediate_size=96, vocab_size=100, max_position_embeddings=64,
    )  # fmt: skip
    return LlamaForCausalLM(cfg).eval()


def _manual_logits(model, ids):
    """Post-rotary q·k of layer 0 computed by hand from the model's own weights."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    attn = model.model.layers[0].self_attn
    h = model.model.layers[0].input_layernorm(model.model.embed_tokens(ids))
    B, T, _ = h.shape
    q = attn.q_proj(h).view(B, T, -1, attn.head_dim).transpose(1, 2)
    k = attn.k_proj(h).view(B, T, -1, attn.head_dim).transpose(1, 2)
    pos = torch.arange(T)[None]
    cos, sin = model.model.rotary_emb(h, pos)
    q_r, k_r = apply_rotary_pos_emb(q, k, cos, sin)
    k_r = k_r.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
    return (q_r.double() @ k_r.double().transpose(-1, -2) * attn.scaling).mean(0), q, k


def test_interface_and_rotary_routes_agree_and_match_manual(llama):
    ids = torch.randint(0, 100, (4, 12), generator=torch.Generator().manual_seed(1))
    a = capture_hf_logits(llama, ids, route="interface")
    b = capture_hf_logits(llama, ids, route="rotary")
    assert a.info["route"] == "interface" and b.info["route"] == "rotary"
    assert a.logits.shape == (2, 4, 12, 12) and a.logits.dtype == np.float64
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-10)
    with torch.no_grad():
        manual, q, k = _manual_logits(llama, ids)
    np.testing.assert_allclose(a.logits[0], manual.numpy(), atol=1e-5)
    assert a.info["rope_layout"] == "rotate_half"
    np.testing.assert_allclose(a.info["inv_freq"], llama.model.rotary_emb.inv_freq.double().numpy())
    assert a.rope_energy.shape == (2, 4, 8)
    # without positional coupling = the unrotated q·k
    k_rep = k.repeat_interleave(2, dim=1)
    unrot = (q.double() @ k_rep.double().transpose(-1, -2) * llama.model.layers[0].self_attn.scaling).mean(0)
    np.testing.assert_allclose(a.logits_without[0], unrot.numpy(), atol=1e-5)


def test_capture_restores_model_even_after_an_error(llama):
    import transformers.models.llama.modeling_llama as ml

    original_rotary = ml.apply_rotary_pos_emb
    impl = llama.config._attn_implementation
    llama.train()
    bad = torch.full((2, 8), 10_000)  # out of vocabulary: the forward raises inside the capture
    with pytest.raises(IndexError):
        capture_hf_logits(llama, bad)
    assert ml.apply_rotary_pos_emb is original_rotary
    assert llama.config._attn_implementation == impl
    assert llama.training and not _ACTIVE
    llama.eval()
    out = llama(torch.randint(0, 100, (1, 5))).logits  # still a working model
    assert torch.isfinite(out).all()


def test_pespectrum_on_hf_model_and_bad_input(llama):
    rep = PESpectrum(seq_len=16, n_sequences=8).fit(llama).result()
    assert rep.scheme == "llama" and rep.n_layers == 2 and rep.n_heads == 4
    assert np.isfinite(rep.stats["contraction_ratio"]).all()
    with pytest.raises(ValueError, match="input_ids"):
        capture_hf_logits(llama, torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="route"):
        capture_hf_logits(llama, torch.zeros(1, 4, dtype=torch.long), route="x")
    with pytest.raises(TypeError, match="model"):
        capture_hf_logits("llama", torch.zeros(1, 4, dtype=torch.long))


def test_layout_inference():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 8))
    inv = 10000.0 ** (-np.arange(0, 8, 2) / 8)
    for layout in K.ROPE_LAYOUTS:
        out = K.apply_rope(x, inv, layout)
        assert infer_rope_layout(torch.tensor(x), torch.tensor(out), torch.tensor(inv)) == layout
    assert infer_rope_layout(torch.tensor(x), torch.tensor(x * 2), torch.tensor(inv)) is None


@pytest.mark.parametrize("scheme", ["nope", "mla"])
def test_hf_config_factory_schemes(scheme):
    from xattr_lab.diagnostics.pe.hf_configs import hf_model

    torch.manual_seed(0)
    model = hf_model(scheme, d_model=32, n_heads=2, n_layers=1, vocab_size=64)
    ids = torch.randint(0, 64, (4, 12))
    cap = capture_hf_logits(model, ids)
    assert cap.info["route"] == "interface" and cap.logits.shape == (1, 2, 12, 12)
    if scheme == "nope":
        assert cap.logits_without is None and cap.rope_energy is None
    else:  # DeepSeek's interleaved rope on the decoupled rope dims only; layout inferred, not assumed
        assert cap.info["rope_layout"] == "interleaved" and cap.rope_energy.shape[-1] == 4
        assert not np.allclose(cap.logits, cap.logits_without)
        with pytest.raises(ValueError, match="route"):
            capture_hf_logits(model, ids, route="rotary")


def test_head_ablation_on_hf_model_with_metric(llama):
    from xattr_lab.diagnostics.spectral.deposit import HeadAblation, find_out_projections

    ids = torch.randint(0, 100, (2, 8), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        target = llama(ids).logits.argmax(-1)

    def agreement(model):
        with torch.no_grad():
            return float((model(ids).logits.argmax(-1) == target).float().mean())

    ha = HeadAblation("zero").fit(llama, metric=agreement)
    assert ha.base_ == 1.0 and ha.drop_.shape == (2, 4)
    assert all(not proj._forward_pre_hooks for _, proj in find_out_projections(llama))
    hm = HeadAblation("mean").fit(llama, x=ids, metric=agreement)
    assert hm.drop_.shape == (2, 4)
