"""LiMA against its definitions: the bidirectional shortlist, the search order, the candidates' cost, λ checks.

A small set function stands in for a model (two target tokens, logistic in the kept regions) so that ``F``
can be written out here from LiMA's definitions and compared with ``LimaObjective`` and the search. Its
region embeddings are random, so the diversity term is non-zero (EAGLE's structural term is 0 and hid the
shortlist's weighting before).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.objectives import EagleObjective, LimaObjective
from xattr_lab.attr.search import run_search
from xattr_lab.attr.search.bidirectional import shortlist_proxy
from xattr_lab.attr.synthetic import SyntheticModel

# Paper order (cons, colla, conf, eff): the paper's default, the CLIP-ViT-L script's (0, 0.05, 20, 1) in
# the reference's internal order (conf, eff, cons, colla), and λ_eff = 1 (where the old bug was invisible).
LAMBDAS = [(20.0, 5.0, 0.05, 0.01), (20.0, 1.0, 0.0, 0.05), (1.0, 1.0, 1.0, 1.0)]


class SetScorer:
    """Just what LimaObjective reads from a scorer: ``n``, ``full``, ``positions`` and ``probs``."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n, self.full, self.positions = n, (1 << n) - 1, [0, 1]
        # A few object regions carry the answer; the background barely moves it (as in real images), so the
        # shortlist among background regions turns on the diversity term.
        self.weights = rng.normal(0.0, 0.02, (n, 2))
        self.weights[rng.choice(n, 4, replace=False)] += rng.uniform(1.0, 2.0, (4, 2))
        self.bias = np.array([-3.0, -2.0])
        self.n_forward = 0

    def keep(self, s: int) -> np.ndarray:
        return np.array([(s >> i) & 1 for i in range(self.n)], dtype=np.float64)

    def p(self, s: int) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.keep(s) @ self.weights + self.bias)))

    def probs(self, sets, variant: int = 0, cached_only: bool = False) -> np.ndarray:
        assert variant == 0
        self.n_forward += len(sets)
        return np.array([self.p(s) for s in sets]).reshape(len(sets), 2)


def direct_f(sc: SetScorer, dist: np.ndarray, lam, members) -> float:
    """LiMA's F(S) written out from the definitions, for a list of region indices."""
    s = sum(1 << i for i in members)
    ins, dele = sc.p(s), sc.p(sc.full ^ s)
    q = np.clip(ins, 1e-12, 1 - 1e-12)
    conf = np.mean(1 + (q * np.log(q) + (1 - q) * np.log(1 - q)) / math.log(2))
    eff = 0.0
    if len(members) > 1:
        eff = sum(min(dist[i, j] for j in members if j != i) for i in members)
    lc, lo, lf, le = lam
    return lc * ins.mean() + lo * (1 - dele.mean()) + lf * conf + le * eff


def direct_eff(dist: np.ndarray, members) -> float:
    return 0.0 if len(members) < 2 else sum(min(dist[i, j] for j in members if j != i) for i in members)


def reference_order(sc: SetScorer, dist: np.ndarray, lam, pending: int = 8) -> tuple[list[int], int]:
    """LiMA's EfficientV2 loop written from its description, F evaluated directly; returns (order, F calls)."""
    n, le = sc.n, lam[3]
    pos: list[int] = []
    neg: list[int] = []
    calls = 0
    for _ in range((n - pending) // 2 + pending):
        cand = [c for c in range(n) if c not in pos and c not in neg]
        if len(cand) == 1:
            pos += cand
            break
        fwd = [direct_f(sc, dist, lam, pos + [c]) for c in cand]
        calls += len(cand)
        best = int(np.argmax(fwd))
        if len(cand) > pending:
            proxy = [f - le * direct_eff(dist, pos + [c]) + le * direct_eff(dist, neg + [c]) for f, c in zip(fwd, cand)]
            short = [i for i in np.argsort(proxy, kind="stable")[:pending] if i != best]
            exact = [direct_f(sc, dist, lam, neg + [cand[i]]) for i in short]
            calls += len(short)
            neg.append(cand[short[int(np.argmin(exact))]])
        pos.append(cand[best])
    return pos + neg[::-1], calls


class CountingObjective:
    """An objective that counts the subsets it is asked for (F calls, the reference's unit)."""

    def __init__(self, inner: LimaObjective) -> None:
        self.inner, self.calls, self.scorer = inner, 0, inner.scorer

    def __call__(self, sets):
        self.calls += len(sets)
        return self.inner(sets)

    def structural(self, sets):
        return self.inner.structural(sets)


def _setup(n: int, seed: int, lam):
    sc = SetScorer(n, seed)
    emb = np.random.default_rng(seed + 100).normal(size=(n, 6))
    obj = LimaObjective(sc, emb, lam)
    return sc, obj


@pytest.mark.parametrize("lam", LAMBDAS)
def test_f_and_structural_equal_the_definitions(lam):
    sc, obj = _setup(12, 0, lam)
    members = [[], [3], [0, 5], [1, 2, 7, 9], list(range(12))]
    sets = [sum(1 << i for i in m) for m in members]
    want = [direct_f(sc, obj.distance, lam, m) for m in members]
    np.testing.assert_allclose(obj(sets), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(obj.structural(sets), [lam[3] * direct_eff(obj.distance, m) for m in members])
    assert obj.structural(sets)[3] > 0  # the test is blind if the term vanishes


@pytest.mark.parametrize("lam", LAMBDAS)
def test_shortlist_scores_equal_f_evaluated_directly(lam):
    sc, obj = _setup(12, 1, lam)
    pos, neg = [4, 7], [0, 2]
    cand = [c for c in range(12) if c not in pos + neg]
    s_pos, s_neg = sum(1 << i for i in pos), sum(1 << i for i in neg)
    fwd = [s_pos | (1 << c) for c in cand]
    proxy = shortlist_proxy(obj, obj(fwd), fwd, [s_neg | (1 << c) for c in cand])
    # The proxy is F(S⁺ ∪ c) with its diversity term replaced, at F's own weight, by that of S⁻ ∪ c.
    le = lam[3]
    want = [
        direct_f(sc, obj.distance, lam, pos + [c])
        - le * direct_eff(obj.distance, pos + [c])
        + le * direct_eff(obj.distance, neg + [c])
        for c in cand
    ]
    np.testing.assert_allclose(proxy, want, rtol=1e-12, atol=1e-12)
    # Without a forward-free term the proxy is the forward score itself, and with only its diversity part
    # left it is F(S⁻ ∪ c) exactly.
    if lam[:3] == (0.0, 0.0, 0.0):
        np.testing.assert_allclose(proxy, obj([s_neg | (1 << c) for c in cand]))


@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("seed", range(3))
def test_orders_and_f_calls_match_the_reference(lam, seed):
    sc, obj = _setup(20, seed, lam)
    want, want_calls = reference_order(sc, obj.distance, lam, pending=6)
    counting = CountingObjective(obj)
    got = run_search("bidirectional", counting, 20, pending=6)
    assert got.order.tolist() == want
    # pending − 1 candidates are scored exactly whenever the forward pick sits in the shortlist
    assert counting.calls == want_calls


def test_forward_pick_in_the_shortlist_leaves_pending_minus_one():
    # With every region equal, the forward pick (the first) heads the shortlist: pending − 1 are scored.
    class Flat(SetScorer):
        def p(self, s: int) -> np.ndarray:
            return np.array([0.5, 0.5])

    sc = Flat(10, 0)
    obj = CountingObjective(LimaObjective(sc, np.ones((10, 3)), (1.0, 1.0, 0.0, 0.0)))
    run_search("bidirectional", obj, 10, pending=4)
    _, want_calls = reference_order(sc, obj.inner.distance, (1.0, 1.0, 0.0, 0.0), pending=4)
    # loops: 3 double steps (10 → 8 → 6 → 4 open), then 3 forward steps and a free last region
    assert obj.calls == want_calls == (10 + 3) + (8 + 3) + (6 + 3) + 4 + 3 + 2


@pytest.mark.parametrize(
    "bad",
    [
        (float("nan"), 5.0, 0.05, 0.01),
        (20.0, float("inf"), 0.05, 0.01),
        (0.0, 0.0, 0.0, 0.0),
        (20.0, 5.0, 0.05),
    ],
)
def test_bad_lima_lambdas_are_refused(bad):
    sc = SetScorer(4, 0)
    with pytest.raises(ValueError, match="lambdas"):
        LimaObjective(sc, np.eye(4), bad)


def test_bad_lambdas_are_refused_at_the_api():
    model = SyntheticModel(size=16, boxes=((2, 2, 8, 8),), about=(0,), words=("red",))
    for method, lam in [("lima", (20, float("nan"), 0.05, 0.01)), ("eagle", (float("nan"), 1.0))]:
        with pytest.raises(ValueError, match="lambdas"):
            xattr_lab.explain(model, model.image, "d", method=method, regions="grid:2", lambdas=lam, progress=False)
    with pytest.raises(TypeError, match="lambdas"):
        EagleObjective(SetScorer(4, 0), ("1", 1.0))
    with pytest.raises(TypeError, match="lambdas"):
        EagleObjective(SetScorer(4, 0), "11")


def test_multi_token_candidates_get_their_own_sequence():
    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods.lima import lima
    from xattr_lab.inputs import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer, bits_to_keep

    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    gen = model.generate()
    regions = make_regions("grid:2", gen.image)
    scorer = SubsetScorer(model, gen, regions, [0])
    ctx = MethodContext(model, gen, regions, [0], scorer, "greedy", 0, None, "black")
    # F = confidence alone, over {target "red", "blue", "green and"}
    out = lima(ctx, lambdas=(0.0, 0.0, 1.0, 0.0), candidates=["blue", "green and"])
    assert sorted(out.order.tolist()) == [0, 1, 2, 3]
    s = 0b0101
    masks = regions.masks(bits_to_keep([s], regions.n)).astype(np.float32)
    ids = [int(i) for i in model.with_target(gen, "green and").generated_ids]
    p = [
        float(model.score(gen, masks, [0])[0, 0]),
        float(model.score(model.with_target(gen, "blue"), masks, [0])[0, 0]),
        float(model.score(model.with_target(gen, ids), masks, [0, 1])[0].prod()),  # its pieces' product
    ]
    q = np.array(p) / sum(p)
    np.testing.assert_allclose(out.objective([s]), [1 + (q * np.log(q)).sum() / np.log(3)], rtol=1e-6)


def _toy_ready() -> bool:
    from xattr_lab.models.toy.build import WEIGHTS_DIR

    return (Path(WEIGHTS_DIR) / "model.safetensors").exists()


class NoTokens:
    """The toy model without ``tokens=``: every candidate then needs its own sequence."""

    def __init__(self, model) -> None:
        self.model = model

    def score(self, gen, masks, positions=None, baseline="black"):
        return self.model.score(gen, masks, positions=positions, baseline=baseline)

    def __getattr__(self, name):
        return getattr(self.model, name)


@pytest.mark.skipif(not _toy_ready(), reason="the ShapesVLM weights are not built")
def test_single_token_candidates_share_the_targets_forward():
    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods.lima import lima
    from xattr_lab.datasets import shapes
    from xattr_lab.inputs import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    sample = list(shapes(1, seed=2718, task="colour"))[-1]
    gen = model.generate(sample.image, sample.prompt, max_new_tokens=4)
    regions = make_regions("grid:3", gen.image)
    cands = ["red", "green", "blue", "yellow", "purple"]
    runs = {}
    for name, m in [("shared", model), ("own", NoTokens(model))]:
        scorer = SubsetScorer(m, gen, regions, [0])
        ctx = MethodContext(m, gen, regions, [0], scorer, "bidirectional", 0, None, "black")
        out = lima(ctx, candidates=cands)
        n_forward = scorer.n_forward
        probe = [0, 1, 0b101, 0b111000, (1 << regions.n) - 1]
        runs[name] = (out.order.tolist(), out.objective(probe), n_forward)
    # Same F (to float32 rounding of the probabilities), same order ...
    np.testing.assert_allclose(runs["shared"][1], runs["own"][1], rtol=1e-5, atol=1e-6)
    assert runs["shared"][0] == runs["own"][0]
    # ... and the candidates cost nothing: as many forwards as LiMA without candidates.
    plain = SubsetScorer(model, gen, regions, [0])
    lima(MethodContext(model, gen, regions, [0], plain, "bidirectional", 0, None, "black"))
    assert runs["shared"][2] == plain.n_forward
    assert runs["own"][2] > 2 * runs["shared"][2]


def test_candidates_that_are_only_the_target_are_refused():
    model = SyntheticModel(size=16, boxes=((2, 2, 8, 8),), about=(0,), words=("red",))
    with pytest.raises(ValueError, match="candidates"):
        xattr_lab.explain(model, model.image, "d", method="lima", regions="grid:2", candidates=["red"], progress=False)
    with pytest.raises(TypeError, match="candidates"):
        xattr_lab.explain(model, model.image, "d", method="lima", regions="grid:2", candidates="red", progress=False)
