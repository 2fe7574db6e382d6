import numpy as np
import pytest
import torch

from xattr_lab.diagnostics.pe.models import PE_SCHEMES, PETransformer
from xattr_lab.diagnostics.pe.tasks import trigger_count, trigger_distance
from xattr_lab.diagnostics.pe.train import PE_PRESETS, PETrainer
from xattr_lab.diagnostics.spectral import kernels as K
from xattr_lab.diagnostics.spectral.analyzer import PESpectrum
from xattr_lab.diagnostics.spectral.deposit import HeadAblation, deposit_summary


@pytest.mark.parametrize("pe", PE_SCHEMES)
def test_every_scheme_runs_and_captures(pe):
    torch.manual_seed(0)
    m = PETransformer(40, 7, pe, d_model=32, n_heads=4, n_layers=2, d_ff=32, max_len=16)
    ids = torch.randint(0, 40, (8, 16))
    assert m(ids).shape == (8, 7)
    cap = m.capture_logits(ids)
    assert cap.logits.shape == (2, 4, 16, 16)
    assert (cap.logits_without is None) == (pe == "nope")
    assert (cap.rope_energy is not None) == (pe in ("rope", "mla"))


def test_alibi_bias_is_exactly_the_difference_and_expands():
    torch.manual_seed(0)
    m = PETransformer(40, 5, "alibi", d_model=32, n_heads=4, n_layers=1, d_ff=32, max_len=24)
    cap = m.capture_logits(torch.randint(0, 40, (16, 24)))
    bias = (cap.logits - cap.logits_without)[0]
    slopes = K.alibi_slopes(4)
    for h in range(4):
        np.testing.assert_allclose(bias[h], K.alibi_bias(24, slopes[h]), atol=1e-5)
        assert K.toeplitz_fraction(bias[h]) == pytest.approx(1.0)
    rep = PESpectrum().fit(m, torch.randint(0, 40, (16, 24))).result()
    assert (rep.stats["contraction_ratio"] > 1).all()


def test_rope_model_matches_the_frequency_decomposition():
    torch.manual_seed(0)
    m = PETransformer(40, 5, "rope", d_model=32, n_heads=2, n_layers=1, d_ff=32, max_len=12).double()
    attn = m.layers[0].self_attn
    x = m.layers[0].ln1(m.embed_tokens(torch.randint(0, 40, (1, 12))))
    q, k, _, q_pre, k_pre = attn._qk(x)
    S = (q @ k.transpose(-1, -2) * attn.scaling)[0, 0].detach().numpy()
    C, G, rest = K.rope_freq_decompose(
        q_pre[0, 0].detach().numpy(), k_pre[0, 0].detach().numpy(), attn.inv_freq.numpy(), "rotate_half", attn.scaling
    )
    np.testing.assert_allclose(np.real(C * G).sum(0) + rest, S, atol=1e-10)


def test_tasks_shapes_and_labels():
    d = trigger_distance(n=300, vocab_size=50, seq_len=24, seed=0)
    x = torch.cat([d.x_train, d.x_test])
    y = torch.cat([d.y_train, d.y_test])
    i1 = (x == 48).float().argmax(1)
    i2 = (x == 49).float().argmax(1)
    assert torch.equal(i2 - i1 - 1, y)
    c = trigger_count(n=200, vocab_size=50, seq_len=24, n_trigger_ids=5, max_count=10)
    xc = torch.cat([c.x_train, c.x_test])
    assert torch.equal((xc >= 45).sum(1), torch.cat([c.y_train, c.y_test]))
    assert 0 < d.chance < 1


def test_deposit_summary_on_constructed_drops():
    one = np.zeros((2, 4))
    one[0, 1] = 0.8
    s = deposit_summary(one, base_acc=0.9, chance=0.1)
    assert s["deposit_share"] == 1.0 and s["n_eff_heads"] == pytest.approx(1.0) and s["deposit"]
    assert (s["deposit_layer"], s["deposit_head"]) == (0, 1)
    flat = np.full((2, 4), 0.05)
    f = deposit_summary(flat, 0.9, 0.1)
    assert f["deposit_share"] == pytest.approx(1 / 8) and f["n_eff_heads"] == pytest.approx(8) and not f["deposit"]
    assert f["gini"] == pytest.approx(0.0)


def test_head_ablation_zeroes_exactly_one_head_and_removes_hooks():
    torch.manual_seed(0)
    m = PETransformer(30, 4, "mla", d_model=32, n_heads=4, n_layers=2, d_ff=32, max_len=10).eval()
    x = torch.randint(0, 30, (64, 10))
    with torch.no_grad():
        ref_logits = m(x)
    y = ref_logits.argmax(-1)  # the model is 100 % accurate on its own predictions
    ha = HeadAblation("zero").fit(m, x, y)
    assert ha.base_ == 1.0 and ha.drop_.shape == (2, 4)
    for _, proj in [(0, m.layers[0].self_attn.o_proj), (1, m.layers[1].self_attn.o_proj)]:
        assert not proj._forward_pre_hooks
    # same effect as zeroing that head's input columns of o_proj (the correct cut; not latent columns)
    h, d = 2, 8
    hook = HeadAblation._hook(h, 4, None)
    handle = m.layers[1].self_attn.o_proj.register_forward_pre_hook(hook)
    with torch.no_grad():
        hooked = m(x)
    handle.remove()
    w = m.layers[1].self_attn.o_proj.weight
    saved = w.data.clone()
    w.data[:, h * d : (h + 1) * d] = 0
    with torch.no_grad():
        manual = m(x)
    w.data.copy_(saved)
    torch.testing.assert_close(hooked, manual)
    mean = HeadAblation("mean").fit(m, x, y)
    assert np.all(mean.drop_ >= -1e-9)
    with pytest.raises(ValueError, match="mode"):
        HeadAblation("bogus").fit(m, x, y)


@pytest.mark.slow
def test_cpu_preset_rope_learns_trigger_distance():
    cfg = {**PE_PRESETS["cpu"], "epochs": 4}
    data = trigger_distance(n=cfg["n"], seq_len=cfg["seq_len"], seed=0)
    tr = PETrainer(pe="rope", **cfg).fit(data)
    assert tr.test_acc_ > 0.5 > 5 * data.chance
    assert len(tr.run_) == 4


def test_no_deposit_flag_for_a_model_at_chance():
    one = np.zeros((2, 4))
    one[0, 1] = 0.02
    s = deposit_summary(one, base_acc=0.06, chance=0.05)
    assert s["deposit_share"] == 1.0 and not s["deposit"]
