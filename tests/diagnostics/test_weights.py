import numpy as np
import pytest
import torch

from xattr_lab.diagnostics.spectral import esd as E
from xattr_lab.diagnostics.spectral.weights import WeightSpectrum, collect_weights


def test_power_law_fit_recovers_alpha():
    rng = np.random.default_rng(0)
    alpha = 3.0
    samples = (1 - rng.random(3000)) ** (-1 / (alpha - 1))  # Pareto with p(x) ∝ x^-alpha, xmin 1
    fit = E.fit_power_law(samples)
    assert fit["status"] == "success"
    assert fit["alpha"] == pytest.approx(alpha, abs=0.25)
    assert E.fit_power_law(np.ones(3))["alpha"] == -1.0


def test_mp_edge_matches_random_matrix_and_trap_detection():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((400, 200))
    lam = E.esd(W)
    assert lam[-1] / E.mp_bulk_edge(W) == pytest.approx(1.0, abs=0.08)
    m = E.layer_metrics(W)
    assert m["rand_num_spikes"] == 0 and m["num_spikes"] == 0
    assert m["mp_softrank"] == pytest.approx(1.0, abs=0.1)
    trapped = W.copy()
    trapped[0, 0] = 400.0  # one huge entry: a spike that survives shuffling — a correlation trap
    assert E.layer_metrics(trapped)["rand_num_spikes"] >= 1
    spiked = W + 30 * np.outer(rng.standard_normal(400), rng.standard_normal(200)) / np.sqrt(400 * 200) * 20
    ms = E.layer_metrics(spiked)
    assert ms["num_spikes"] >= 1 and ms["rand_num_spikes"] == 0  # real correlation, not a trap


def test_weight_spectrum_on_module_and_dict_with_small_layer_warning():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(128, 96), torch.nn.ReLU(), torch.nn.Linear(96, 20))
    with pytest.warns(RuntimeWarning, match="eigenvalues"):
        ws = WeightSpectrum().fit(model)
    assert set(ws.layers_) == {"0.weight", "2.weight"}
    assert ws.layers_["2.weight"]["warning"] == "few-evals"
    assert ws.summary_["n_layers"] == 2
    nanda_wq = torch.randn(4, 32, 128)  # (H, d_head, d) stack, invisible to WeightWatcher
    mats = collect_weights({"W_Q": nanda_wq})
    assert mats["W_Q"].shape == (128, 128)
    with pytest.raises(TypeError, match="weights"):
        WeightSpectrum().fit(42)
