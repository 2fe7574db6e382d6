import numpy as np
import pytest

from xattr_lab.metrics.rank_similarity import cumulative_overlap, rbo_ext, rbo_truncated


def by_definition(s, t, p, form):
    """Webber et al.'s sums written out term by term, from sets (independent of the vectorised code)."""
    k = len(t)
    agreement = [len(set(s[:d]) & set(t[:d])) / d for d in range(1, k + 1)]
    if form == "truncated":
        return (1 - p) * sum(p ** (d - 1) * agreement[d - 1] for d in range(1, k + 1))
    return agreement[-1] * p**k + (1 - p) / p * sum(agreement[d - 1] * p**d for d in range(1, k + 1))


def test_identical_and_disjoint_lists():
    ref = np.arange(10)
    assert rbo_ext(ref, ref) == pytest.approx(1.0)
    assert rbo_truncated(ref, ref, p=0.9) == pytest.approx(1 - 0.9**10)  # the truncated sum's maximum
    assert rbo_ext(np.arange(10, 20), ref) == 0.0
    assert rbo_truncated(np.arange(10, 20), ref) == 0.0
    assert rbo_ext([7], [7], p=0.3) == pytest.approx(1.0)
    assert rbo_truncated([7], [7], p=0.3) == pytest.approx(0.7)


def test_reversed_lists_at_k10_p09():
    ref = np.arange(10)
    # X_d = 0 until the halves meet: X_6..X_10 = 2, 4, 6, 8, 10
    expected_ext = 0.9**10 + (1 - 0.9) / 0.9 * sum(0.9**d * (2 * d - 10) / d for d in range(6, 11))
    assert expected_ext == pytest.approx(0.5116, abs=1e-4)
    assert rbo_ext(ref[::-1], ref, p=0.9) == pytest.approx(expected_ext)
    expected_truncated = 0.1 * sum(0.9 ** (d - 1) * (2 * d - 10) / d for d in range(6, 11))
    assert rbo_truncated(ref[::-1], ref, p=0.9) == pytest.approx(expected_truncated)


def test_hand_computed_small_case():
    s, t = ["a", "b", "c"], ["b", "a", "d"]  # X = 0, 2, 2
    assert cumulative_overlap(np.array(s), np.array(t)).tolist() == [[0, 2, 2]]
    # truncated: 0.5 * (0 + 0.5 * 1 + 0.25 * 2/3) = 1/3; ext: (2/3)/8 + (0.25 + 0.125 * 2/3) = 5/12
    assert rbo_truncated(np.array(s), np.array(t), p=0.5) == pytest.approx(1 / 3)
    assert rbo_ext(np.array(s), np.array(t), p=0.5) == pytest.approx(5 / 12)


def test_rows_agree_with_the_definition_on_random_rankings():
    rng = np.random.default_rng(0)
    for _ in range(20):
        k = int(rng.integers(1, 12))
        ref = rng.permutation(3 * k)[:k]
        rows = np.stack([rng.permutation(3 * k)[:k] for _ in range(4)])
        p = float(rng.uniform(0.1, 0.95))
        for form, fn in (("truncated", rbo_truncated), ("ext", rbo_ext)):
            want = [by_definition(r.tolist(), ref.tolist(), p, form) for r in rows]
            np.testing.assert_allclose(fn(rows, ref, p), want, rtol=1e-12, atol=1e-15)


def test_top_disagreement_costs_more_and_empty_rows():
    ref = np.arange(10)
    top_swap, tail_swap = np.r_[1, 0, np.arange(2, 10)], np.r_[np.arange(8), 9, 8]
    for fn in (rbo_ext, rbo_truncated):
        a, b = fn(np.stack([top_swap, tail_swap]), ref)
        assert 0 < a < b < fn(ref, ref) + 1e-12
        assert fn(np.zeros((0, 10), dtype=int), ref).shape == (0,)


def test_bad_input_is_refused():
    ref = np.arange(5)
    with pytest.raises(ValueError, match="lists: a ranking must not repeat"):
        rbo_ext(np.array([0, 1, 1, 2, 3]), ref)
    with pytest.raises(ValueError, match="row 1"):
        rbo_truncated(np.array([[0, 1, 2, 3, 4], [4, 4, 3, 2, 1]]), ref)
    with pytest.raises(ValueError, match="reference: a ranking must not repeat"):
        rbo_ext(ref, np.array([0, 0, 1, 2, 3]))
    with pytest.raises(ValueError, match="length 5"):
        rbo_ext(np.arange(4), ref)
    with pytest.raises(ValueError, match="p"):
        rbo_ext(ref, ref, p=1.0)
    with pytest.raises(ValueError, match="reference"):
        rbo_truncated(ref, np.zeros(0))


def test_ext_adds_the_last_agreement_times_p_to_the_k():
    rng = np.random.default_rng(1)
    ref = rng.permutation(30)[:12]
    rows = np.stack([rng.permutation(30)[:12] for _ in range(5)])
    tail = cumulative_overlap(rows, ref)[:, -1] / 12 * 0.7**12
    np.testing.assert_allclose(rbo_ext(rows, ref, 0.7) - rbo_truncated(rows, ref, 0.7), tail, atol=1e-15)
