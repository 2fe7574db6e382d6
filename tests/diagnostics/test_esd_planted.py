"""Weight-spectrum fits on planted spectra: power laws of known α, spikes on a Marchenko–Pastur bulk."""

import numpy as np
import pytest

from xattr_lab.diagnostics.spectral import esd as E


def _orth(n, k, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def _pareto_quantiles(alpha, n, xmin=1.0):
    u = (np.arange(1, n + 1) - 0.5) / n
    return xmin * (1 - u) ** (-1 / (alpha - 1))


@pytest.mark.parametrize("alpha", [2.0, 3.0, 4.5])
@pytest.mark.parametrize("n", [500, 1000])
def test_power_law_of_known_alpha_recovered_within_005(alpha, n):
    fit = E.fit_power_law(_pareto_quantiles(alpha, n, xmin=0.3))
    assert fit["status"] == "success"
    assert abs(fit["alpha"] - alpha) < 0.05
    assert fit["n_tail"] >= n // 2  # the whole planted tail, not a handful of top eigenvalues


def test_power_law_planted_in_a_matrix_through_layer_metrics():
    rng = np.random.default_rng(0)
    n, alpha = 500, 3.0
    lam = _pareto_quantiles(alpha, n)
    W = _orth(2 * n, n, rng) @ np.diag(np.sqrt(lam)) @ _orth(n, n, rng).T
    m = E.layer_metrics(W, randomize=False)
    assert m["n_evals"] == n
    assert abs(m["alpha"] - alpha) < 0.05
    assert m["alpha_weighted"] == pytest.approx(m["alpha"] * np.log10(lam.max()), rel=1e-6)


def test_power_law_on_random_pareto_samples_is_unbiased_on_average():
    alpha, n = 2.5, 2000
    est = [E.fit_power_law((1 - np.random.default_rng(s).random(n)) ** (-1 / (alpha - 1)))["alpha"] for s in range(20)]
    assert abs(np.mean(est) - alpha) < 0.05


def test_ks_rules_and_small_sample_branch():
    lam = _pareto_quantiles(3.0, 200)
    ww, two = E.fit_power_law(lam, ks="ww"), E.fit_power_law(lam, ks="two-sided")
    assert ww["D"] <= two["D"] + 1e-12  # the one-sided reading never exceeds the supremum over both sides
    with pytest.raises(ValueError, match="ks"):
        E.fit_power_law(lam, ks="one")
    small = np.random.default_rng(3).pareto(2.0, 15) + 1.0
    fit = E.fit_power_law(small)
    tail = np.sort(small)[np.sort(small) >= fit["xmin"]]
    assert fit["n_tail"] == tail.size >= E.SMALL_N_MIN_TAIL
    # bias-corrected MLE (n − 1)/Σ ln(λ/x_min) below 20 eigenvalues, the plain MLE with small_n=False
    assert fit["alpha"] == pytest.approx(1 + (tail.size - 1) / np.log(tail / fit["xmin"]).sum())
    plain = E.fit_power_law(small, small_n=False)
    tail2 = np.sort(small)[np.sort(small) >= plain["xmin"]]
    assert plain["alpha"] == pytest.approx(1 + tail2.size / np.log(tail2 / plain["xmin"]).sum())
    assert E.fit_power_law(np.ones(3))["status"] == "failed"


@pytest.mark.parametrize("y", [1.0, 0.5, 0.1])
def test_mp_cdf_table_has_the_law_s_moments(y):
    x, F = E._mp_unit_cdf(y)
    dF = np.diff(F)
    mid = (x[1:] + x[:-1]) / 2
    assert F[0] == 0 and F[-1] == pytest.approx(1.0)
    assert np.sum(mid * dF) == pytest.approx(1.0, abs=2e-3)  # E[x] = σ² = 1
    assert np.sum(mid**2 * dF) == pytest.approx(1.0 + y, abs=5e-3)  # E[x²] = 1 + y


def _spiked(N, M, strengths, sigma=0.05, seed=0):
    rng = np.random.default_rng(seed)
    edge = sigma**2 * (np.sqrt(N) + np.sqrt(M)) ** 2
    k = len(strengths)
    S = np.sqrt(np.asarray(strengths) * edge)
    W = sigma * rng.standard_normal((N, M)) + _orth(N, k, rng) @ np.diag(S) @ _orth(M, k, rng).T
    return W, edge


@pytest.mark.parametrize("shape", [(600, 300), (256, 256)])
def test_spikes_on_an_mp_bulk_recovered(shape):
    strengths = [2.0, 4.0, 10.0, 40.0, 80.0]  # θ² in units of the bulk edge, all above the BBP threshold
    W, edge = _spiked(*shape, strengths)
    m = E.layer_metrics(W)
    assert m["bulk_max"] == pytest.approx(edge, rel=0.03)
    assert m["num_spikes"] == len(strengths)
    lam_max = E.esd(W)[-1]
    assert m["mp_softrank"] == pytest.approx(edge / lam_max, rel=0.03)
    assert m["sigma_mp"] == pytest.approx(0.05, rel=0.02)
    assert m["rand_num_spikes"] == 0  # real correlations, not a trap
    # The raw entry variance holds the spikes' energy: its edge is far too high and hides the weaker spikes.
    assert E.mp_bulk_edge(W) > 1.3 * edge


def test_pure_mp_bulk_has_no_spikes_and_soft_rank_one():
    for seed, shape in enumerate([(400, 200), (128, 128), (320, 128), (128, 43)]):
        W = np.random.default_rng(seed).standard_normal(shape)
        m = E.layer_metrics(W)
        assert m["num_spikes"] == 0 and m["rand_num_spikes"] == 0
        assert m["mp_softrank"] == pytest.approx(1.0, abs=0.08)


def test_correlation_trap_and_spike_margins():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((400, 200))
    trapped = W.copy()
    trapped[0, 0] = 400.0  # one huge entry: a spike that survives shuffling
    assert E.layer_metrics(trapped)["rand_num_spikes"] >= 1
    edge = E.mp_edges(1.0, 400, 200)[1]
    assert E.spike_threshold(1.0, 400, 200, "none") == edge
    assert edge < E.spike_threshold(1.0, 400, 200, "tw") < 1.1 * edge
    assert edge < E.spike_threshold(1.0, 400, 200, "ww") < 1.2 * edge
    with pytest.raises(ValueError, match="margin"):
        E.spike_threshold(1.0, 400, 200, "loose")


def test_layer_metrics_reuses_given_eigenvalues():
    W = np.random.default_rng(2).standard_normal((100, 60))
    lam = E.esd(W)
    assert E.layer_metrics(W, evals=lam, randomize=False) == E.layer_metrics(W, randomize=False)
    with pytest.raises(ValueError, match="evals"):
        E.fit_mp_bulk(lam[:-1], 100, 60)


def test_two_svds_per_layer(monkeypatch):
    from xattr_lab.diagnostics.spectral.weights import WeightSpectrum

    calls = []
    svd = np.linalg.svd

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return svd(*args, **kwargs)

    monkeypatch.setattr(np.linalg, "svd", counting)
    rng = np.random.default_rng(4)
    weights = {f"w{i}": rng.standard_normal((120, 60)) for i in range(3)}
    WeightSpectrum().fit(weights)
    assert len(calls) == 2 * len(weights)  # the layer's ESD and its shuffled copy's
    calls.clear()
    WeightSpectrum(randomize=False).fit(weights)
    assert len(calls) == len(weights)
