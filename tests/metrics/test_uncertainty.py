import numpy as np
import pytest

from xattr_lab.metrics.uncertainty import bootstrap_ci, paired_difference, saturation


def test_bootstrap_ci_covers_the_true_mean_at_about_the_nominal_rate():
    # 200 samples of 40 draws from N(0.3, 1): a 95% interval should contain 0.3 about 95% of the time
    # (the percentile bootstrap under-covers a little at small n, hence the loose band).
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(200):
        est = bootstrap_ci(rng.normal(0.3, 1.0, size=40), n_boot=400, seed=i)
        hits += est.low <= 0.3 <= est.high
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_ci_width_shrinks_with_n_and_brackets_the_mean():
    rng = np.random.default_rng(1)
    small = bootstrap_ci(rng.normal(size=20))
    large = bootstrap_ci(rng.normal(size=2000))
    for est in (small, large):
        assert est.low <= est.mean <= est.high
    assert large.high - large.low < (small.high - small.low) / 4
    assert small.n == 20 and small.level == 0.95


def test_bootstrap_ci_is_deterministic_by_seed():
    values = np.random.default_rng(2).uniform(size=30)
    assert bootstrap_ci(values, seed=5) == bootstrap_ci(values, seed=5)
    assert bootstrap_ci(values, seed=5) != bootstrap_ci(values, seed=6)


def test_bootstrap_ci_leaves_out_nan_and_handles_tiny_inputs():
    est = bootstrap_ci([0.2, float("nan"), 0.4])
    assert est.n == 2 and est.mean == pytest.approx(0.3)
    assert 0.2 <= est.low <= est.high <= 0.4
    one = bootstrap_ci([0.7])
    assert (one.mean, one.low, one.high, one.n) == (0.7, 0.7, 0.7, 1)
    empty = bootstrap_ci([float("nan")])
    assert empty.n == 0 and np.isnan(empty.mean) and np.isnan(empty.low)


def test_bootstrap_ci_level_widens_the_interval():
    values = np.random.default_rng(3).normal(size=50)
    narrow, wide = bootstrap_ci(values, level=0.5), bootstrap_ci(values, level=0.99)
    assert wide.low < narrow.low and wide.high > narrow.high


@pytest.mark.parametrize(
    "kw, match", [({"n_boot": 0}, "n_boot"), ({"level": 1.0}, "level"), ({"seed": -1}, "seed")]
)
def test_bootstrap_ci_rejects_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        bootstrap_ci([1.0, 2.0], **kw)
    with pytest.raises(ValueError, match="values"):
        bootstrap_ci([[1.0, 2.0]])


def test_paired_difference_by_hand():
    a, b = [1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 4.0, 1.0]  # a - b = 1, 0, -1, 3
    d = paired_difference(a, b)
    assert d.mean == pytest.approx(0.75) and d.n == 4
    assert d.win_rate == pytest.approx((2 + 0.5) / 4)  # two wins, one tie counted half
    assert -1.0 <= d.low <= d.mean <= d.high <= 3.0
    lower = paired_difference(a, b, higher_is_better=False)  # deletion: lower wins
    assert lower.mean == pytest.approx(0.75) and lower.win_rate == pytest.approx((1 + 0.5) / 4)


def test_paired_difference_pairs_only_finite_scenes_and_removes_shared_variance():
    rng = np.random.default_rng(4)
    scene = rng.normal(0, 1.0, size=60)  # a large per-scene effect both methods share
    a, b = scene + 0.1 + rng.normal(0, 0.02, 60), scene + rng.normal(0, 0.02, 60)
    d = paired_difference(a, b)
    assert 0 < d.low < 0.1 < d.high < 0.2  # paired: the 0.1 gap is resolved despite the scene spread
    assert d.win_rate > 0.95
    a[0] = np.nan
    assert paired_difference(a, b).n == 59
    identical = paired_difference(b, b)
    assert identical.mean == 0 and identical.win_rate == 0.5


def test_paired_difference_rejects_unpaired_inputs():
    with pytest.raises(ValueError, match="same scenes"):
        paired_difference([1.0, 2.0], [1.0])


def test_saturation_fires_on_a_high_random_baseline_with_its_number():
    s = saturation({"eagle": 0.95, "saliency": 0.70, "random": 0.72})
    assert s.random_insertion == pytest.approx(0.72)
    assert len(s.warnings) == 1 and "0.720" in s.warnings[0] and "random" in s.warnings[0]
    assert s.best == ("eagle", 0.95) and s.worst == ("saliency", 0.70)
    assert s.spread == pytest.approx(0.25)


def test_saturation_fires_when_methods_are_close():
    s = saturation({"eagle": 0.96, "lima": 0.95, "saliency": 0.91, "random": 0.40})
    assert len(s.warnings) == 1
    assert "0.050" in s.warnings[0] and "eagle 0.960" in s.warnings[0] and "saliency 0.910" in s.warnings[0]


def test_saturation_stays_quiet_on_a_discriminating_table():
    s = saturation({"eagle": 0.9, "saliency": 0.6, "random": 0.45, "broken": float("nan")})
    assert s.warnings == () and s.worst == ("saliency", 0.6)
    alone = saturation({"eagle": 0.9})
    assert alone.warnings == () and np.isnan(alone.spread) and np.isnan(alone.random_insertion)
    both = saturation({"eagle": 0.9, "lima": 0.88, "random": 0.8})
    assert len(both.warnings) == 2
    with pytest.raises(TypeError, match="insertion"):
        saturation([0.9, 0.8])
