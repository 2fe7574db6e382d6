import numpy as np
import pytest
import torch

from xattr_lab.diagnostics._stats import effective_number, gini
from xattr_lab.diagnostics.grokking import measures as M
from xattr_lab.diagnostics.grokking.data import apply_op, make_modular_data


def test_med_on_hand_made_embeddings():
    E = np.zeros((5, 2))
    E[:, 0] = [0, 1, 3, 6, 10]  # consecutive gaps 1, 2, 3, 4
    assert M.med(E) == pytest.approx(2.5)
    two_blocks = np.vstack([E, 2 * E])  # second block (offset 5) has gaps 2, 4, 6, 8
    assert M.med(two_blocks, n=5, offsets=(0, 5)) == pytest.approx((2.5 + 5.0) / 2)
    circle = np.stack([np.cos(2 * np.pi * np.arange(7) / 7), np.sin(2 * np.pi * np.arange(7) / 7)], 1)
    assert M.med(circle) == pytest.approx(2 * np.sin(np.pi / 7))
    with pytest.raises(ValueError, match="E"):
        M.med(np.zeros(3))


def _fourier_logits(p, freqs, scale=10.0):
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    s = (a + b).ravel()
    c = np.arange(p)
    L = sum(np.cos(2 * np.pi * k * (s[:, None] - c[None]) / p) for k in freqs)
    return scale * L, s % p


def test_restricted_and_excluded_loss_on_hand_made_logits():
    p = 13
    L, y = _fourier_logits(p, [2, 5])
    train = np.random.default_rng(0).random((p, p)) < 0.5
    restricted, excluded = M.restricted_and_excluded_loss(L, y, p, [2, 5], train)
    full = M._xent(L, y)
    assert restricted == pytest.approx(full, abs=1e-9)  # everything lives in the key frequencies
    assert excluded == pytest.approx(np.log(p), abs=1e-6)  # removing them leaves a constant per output
    r_wrong, e_wrong = M.restricted_and_excluded_loss(L, y, p, [3], train)
    assert r_wrong == pytest.approx(np.log(p), abs=1e-6) and e_wrong == pytest.approx(full, abs=1e-9)
    with pytest.raises(ValueError, match="op"):
        M.restricted_and_excluded_loss(L, y, p, [2], train, op="div")


def test_key_frequencies_from_constructed_activations():
    p = 11
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    w = 2 * np.pi / p
    acts = np.stack(
        [np.cos(w * 3 * (a + b)).ravel()] * 6 + [np.sin(w * 4 * a).ravel()] * 4 + [np.cos(w * 1 * b).ravel()],
        axis=1,
    )
    key, votes = M.key_frequencies(acts, p, min_neurons=0.2)
    assert key == [3, 4] and votes[3] == 6 and votes[4] == 4


def test_fourier_basis_orthonormal_and_gini():
    F, names = M.fourier_basis(7)
    np.testing.assert_allclose(F @ F.T, np.eye(7), atol=1e-12)
    assert names[:3] == ["const", "cos 1", "sin 1"]
    x = np.arange(7)
    E = np.stack([np.cos(2 * np.pi * 2 * x / 7), np.sin(2 * np.pi * 2 * x / 7)], 1)
    norms = M.fourier_norms(E)
    assert np.argmax(norms) == 1 and M.fourier_gini(E) > 0.6
    assert gini(np.ones(5)) == pytest.approx(0.0)
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert effective_number([1, 1, 0, 0]) == pytest.approx(2.0)


def test_embedding_geometry_labels_two_uniformities_apart():
    rng = np.random.default_rng(0)
    iso = rng.standard_normal((64, 16))
    clumped = iso * 0.01 + np.ones(16)
    g_iso, g_clump = M.embedding_geometry(iso), M.embedding_geometry(clumped)
    assert g_iso["unif_hypersphere"] < g_clump["unif_hypersphere"]  # lower = more uniform on the sphere
    assert g_iso["participation_ratio"] > 5
    circle = np.stack([np.cos(np.arange(10)), np.sin(np.arange(10))], 1) * 3.0
    assert M.embedding_geometry(circle)["wd_uniformity_norm_cv"] == pytest.approx(0.0, abs=1e-12)
    assert "hypersphere" in M.SERIES_LABELS["unif_hypersphere"]
    assert "weight-decay" in M.SERIES_LABELS["wd_uniformity_norm_cv"]


def test_modular_data_ops_and_splits():
    assert list(apply_op(np.array([3]), np.array([4]), 7, "add")) == [0]
    assert list(apply_op(np.array([3]), np.array([4]), 7, "sub")) == [6]
    assert list(apply_op(np.array([3]), np.array([4]), 7, "div")) == [6]  # 4·6 = 24 ≡ 3
    assert list(apply_op(np.array([1]), np.array([2]), 7, "quad")) == [0]  # 1+2+4
    d = make_modular_data(11, "add", frac=0.3)
    assert len(d.y_train) == round(0.3 * 121) and len(d.y_train) + len(d.y_test) == 121
    sq = make_modular_data(11, "add", split="square", k=4)
    assert not sq.train_mask[:4, :4].any() and sq.test_mask[:4, :4].all() and sq.train_mask[4:, :].all()
    strip = make_modular_data(11, "sub", split="strip", k=3)
    assert not torch.isin(strip.x_train[:, 0], torch.arange(3)).any()
    div = make_modular_data(11, "div", frac=0.5)
    assert not (div.x_train[:, 1] == 0).any() and not (div.x_test[:, 1] == 0).any()
    with pytest.raises(ValueError, match="p"):
        make_modular_data(12)
    with pytest.raises(ValueError, match="op"):
        make_modular_data(11, "mul")
