"""Key frequencies: the vote rule, the reference's every-neuron argmax, k = p // 2, dead neurons, no NaN."""

import numpy as np
import pytest

from xattr_lab.diagnostics.grokking import GrokTrainer, preset
from xattr_lab.diagnostics.grokking import measures as M


def _grid(p):
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    return a.ravel(), b.ravel(), 2 * np.pi / p


def _acts(p):
    a, b, w = _grid(p)
    cols = [np.cos(w * 3 * (a + b))] * 6 + [np.sin(w * 4 * a)] * 4
    noisy = np.cos(w * 1 * b) + 2.0 * np.random.default_rng(0).standard_normal(p * p)  # best k = 1, weak share
    return np.stack(cols + [noisy], axis=1)


def test_vote_rule_thresholds_and_argmax_rule_takes_every_neuron():
    p = 11
    acts = _acts(p)
    key, votes = M.key_frequencies(acts, p, min_neurons=0.2)
    assert key == [3, 4] and votes[3] == 6 and votes[4] == 4 and votes[1] == 0
    ref, ref_votes = M.key_frequencies(acts, p, rule="argmax")
    best_noisy = int(np.argmax(M.key_frequencies(acts[:, -1:], p, rule="argmax")[1]))  # its one vote
    assert ref == sorted({3, 4, best_noisy}) and ref_votes.sum() == acts.shape[1]
    # the reference's rule ignores the thresholds
    assert M.key_frequencies(acts, p, rule="argmax", min_share=0.99, min_neurons=1.0)[0] == ref


def test_highest_frequency_p_over_2_is_a_candidate():
    p = 13
    a, b, w = _grid(p)
    k = p // 2
    acts = np.stack([np.cos(w * k * (a + b)), np.sin(w * k * b), np.cos(w * 2 * a)], axis=1)
    for rule in M.KEY_FREQ_RULES:
        key, _ = M.key_frequencies(acts, p, rule=rule, min_neurons=0.3)
        assert k in key, rule
        # a reference loop over range(1, p // 2) never sees it
        capped, _ = M.key_frequencies(acts, p, rule=rule, min_neurons=0.3, max_freq=k - 1)
        assert k not in capped and all(1 <= f < k for f in capped)
    L = 10 * np.cos(w * k * ((a + b)[:, None] - np.arange(p)[None]))
    r, e = M.restricted_and_excluded_loss(L, (a + b) % p, p, [k], np.ones((p, p), bool))
    assert r == pytest.approx(M._xent(L, (a + b) % p), abs=1e-9) and e == pytest.approx(np.log(p), abs=1e-6)


@pytest.mark.parametrize("rule", M.KEY_FREQ_RULES)
def test_dead_neurons_never_give_nan_or_frequency_zero(rule):
    p = 11
    a, b, w = _grid(p)
    acts = np.zeros((p * p, 20))  # 15 dead neurons
    acts[:, :5] = np.cos(w * 2 * (a + b))[:, None]
    key, votes = M.key_frequencies(acts, p, rule=rule, min_share=0.0, min_neurons=0.0)
    assert key == [2] and votes[0] == 0 and votes.sum() == 5
    L = np.random.default_rng(1).standard_normal((p * p, p))
    r, e = M.restricted_and_excluded_loss(L, (a + b) % p, p, key, np.ones((p, p), bool))
    assert np.isfinite(r) and np.isfinite(e)
    dead = np.zeros((p * p, 8))
    key_dead, votes_dead = M.key_frequencies(dead, p, rule=rule, min_share=0.0, min_neurons=0.0)
    assert key_dead == [1, 2, 3] and votes_dead.sum() == 0  # documented fallback, still a usable set
    assert all(np.isfinite(M.restricted_and_excluded_loss(L, (a + b) % p, p, key_dead, np.ones((p, p), bool))))


def test_bad_arguments_are_named():
    p = 11
    acts = _acts(p)
    with pytest.raises(ValueError, match="rule"):
        M.key_frequencies(acts, p, rule="vote-all")
    with pytest.raises(ValueError, match="min_share"):
        M.key_frequencies(acts, p, min_share=1.5)
    with pytest.raises(ValueError, match="max_freq"):
        M.key_frequencies(acts, p, max_freq=p // 2 + 1)
    with pytest.raises(ValueError, match="acts"):
        M.key_frequencies(np.full_like(acts, np.nan), p)
    L = np.zeros((p * p, p))
    for bad in ([0], [p // 2 + 1], [2.5]):
        with pytest.raises(ValueError, match="key_freqs"):
            M.restricted_and_excluded_loss(L, np.zeros(p * p, int), p, bad, np.ones((p, p), bool))


def test_trainer_takes_the_rule_and_records_it():
    tr = GrokTrainer(**preset("tiny", steps=20), key_freq_rule="argmax", progress=False).fit()
    run = tr.result()
    assert run.config["key_freq_rule"] == "argmax"
    assert np.isfinite(run.series["restricted_loss"]).all() and np.isfinite(run.series["excluded_loss"]).all()
    assert all(1 <= k <= 23 // 2 for k in run.info["key_freqs"])
    with pytest.raises(ValueError, match="key_freq_rule"):
        GrokTrainer(**preset("tiny"), key_freq_rule="top").fit()
