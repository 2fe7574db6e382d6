"""Contrastive explanations on the ShapesVLM: ``explain(..., target=, contrast=)`` explains the margin.

The scenes hold two objects of different colours and ask the colour of one (``what colour is the star ?``).
The model answers the asked object's colour, and the other object's colour once the asked one is removed
(checked below), so "why A rather than B" rests on A's object and "why B rather than A" on B's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.datasets.shapes import sample
from xattr_lab.inputs.regions import make_regions
from xattr_lab.metrics.localisation import pointing_game
from xattr_lab.scoring.subsets import SubsetScorer

SEEDS = (3001, 3014)  # stream-3000 colour questions with two objects of different colours


@pytest.fixture(scope="module")
def model():
    return xattr_lab.load_model("toy-shapes")


def scene(seed: int):
    s = sample(seed, "colour")
    a = s.target
    colours = [o.split()[0] for o in s.objects]
    assert len(s.objects) == 2 and colours[0] != colours[1]
    return s, a, 1 - a, colours[a], colours[1 - a]


def direct_margin(model, gen, target: str, contrast: str, masks: np.ndarray) -> np.ndarray:
    """log p(target) − log p(contrast) at position 0, from two separate teacher-forced scorings."""
    m = torch.from_numpy(masks.astype(np.float32))
    pt = model.score(model.with_target(gen, target), m, positions=[0]).double().numpy()[:, 0]
    pc = model.score(model.with_target(gen, contrast), m, positions=[0]).double().numpy()[:, 0]
    return np.log(pt) - np.log(pc)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_model_answers_the_other_colour_without_the_asked_object(model, seed):
    s, a, b, colour_a, colour_b = scene(seed)
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    assert gen.generated_tokens[0] == colour_a
    masks = np.stack([np.ones((96, 96)), ~s.masks[a], s.masks[b]])
    m = direct_margin(model, gen, colour_a, colour_b, masks)
    assert m[0] > 5 and m[1] < -5 and m[2] < -5  # whole scene: A; A removed or B alone: B


@pytest.mark.parametrize("seed", SEEDS)
def test_each_contrastive_map_points_at_its_own_object(model, seed):
    s, a, b, colour_a, colour_b = scene(seed)
    why_a = xattr_lab.explain(
        model, s.image, s.prompt, "eagle", regions="slico:24", search="efficient", contrast=colour_b, progress=False
    )
    why_b = xattr_lab.explain(
        model, s.image, s.prompt, "eagle", regions="slico:24", search="efficient",
        target=colour_b, contrast=colour_a, progress=False,
    )  # fmt: skip
    assert why_a.target_tokens == (colour_a,) and why_a.contrast.tokens == (colour_b,)
    assert why_b.target_tokens == (colour_b,) and why_b.contrast.tokens == (colour_a,)
    assert pointing_game(why_a.pixel_map, mask=s.masks[a])
    assert pointing_game(why_b.pixel_map, mask=s.masks[b])
    # the two margins are each other's negatives on the same images
    np.testing.assert_allclose(why_a.insertion[:, [0, -1]], -why_b.insertion[:, [0, -1]], atol=1e-9)


def test_scorer_margin_equals_log_ratio_computed_directly(model):
    s, a, b, colour_a, colour_b = scene(SEEDS[0])
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    regions = make_regions("grid:3", s.image)
    contrast_id = int(model.with_target(gen, colour_b).generated_ids[0])
    scorer = SubsetScorer(model, gen, regions, [0], contrast=[contrast_id])
    sets = [0, scorer.full, 0b101, scorer.full ^ 0b10]
    got = scorer.margins(sets)
    masks = np.stack([np.take(np.array([(x >> i) & 1 for i in range(regions.n)]), regions.labels) for x in sets])
    np.testing.assert_allclose(got[:, 0], direct_margin(model, gen, colour_a, colour_b, masks), atol=2e-5)
    assert scorer.n_forward == len(sets)  # target and contrast from one forward per image
    assert got.dtype == np.float64
    np.testing.assert_allclose(scorer.pairwise(sets), 1 / (1 + np.exp(-got)))
    np.testing.assert_allclose(scorer.values(sets), got)
    # inseq's reading (the contrast on its own sequence): the same for a one-token answer, one more forward
    own = SubsetScorer(model, gen, regions, [0], contrast=[contrast_id], contrast_prefix="own")
    np.testing.assert_allclose(own.margins(sets), got, atol=2e-5)
    assert own.n_forward == 2 * len(sets)


def test_eagle_objective_reads_the_pair_probability(model):
    from xattr_lab.attr.objectives import EagleObjective

    s, a, b, colour_a, colour_b = scene(SEEDS[1])
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    regions = make_regions("grid:3", s.image)
    cid = int(model.with_target(gen, colour_b).generated_ids[0])
    scorer = SubsetScorer(model, gen, regions, [0], contrast=[cid])
    f = EagleObjective(scorer, (1.0, 2.0))
    sets = [0b11, 0b110000]
    m_in, m_out = scorer.margins(sets), scorer.margins([scorer.full ^ x for x in sets])
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    np.testing.assert_allclose(f(sets), (sig(m_in) + 2.0 * (1 - sig(m_out))).mean(-1))


def test_contrast_alone_explains_the_generated_answer_and_costs_no_extra_forward(model):
    s, a, b, colour_a, colour_b = scene(SEEDS[0])
    kw = dict(regions="grid:3", search="greedy", progress=False)
    plain = xattr_lab.explain(model, s.image, s.prompt, "eagle", **kw)
    contrastive = xattr_lab.explain(model, s.image, s.prompt, "eagle", contrast=colour_b, **kw)
    assert contrastive.target_tokens == plain.target_tokens == (colour_a,)
    assert contrastive.cost["n_forward"] == plain.cost["n_forward"]
    assert plain.contrast is None and contrastive.contrast.text == colour_b
    assert "contrast='" in repr(contrastive)


def test_multi_token_contrasts_align_or_are_refused(model):
    s, a, b, colour_a, colour_b = scene(SEEDS[0])
    shape_a = s.objects[a].split()[1]
    kw = dict(regions="grid:2", search="greedy", progress=False)
    # same length, one differing token: only that position is explained
    two = f"{colour_a} {shape_a}"
    e = xattr_lab.explain(model, s.image, s.prompt, target=two, contrast=f"{colour_b} {shape_a}", **kw)
    assert e.positions == (0,) and e.contrast.tokens == (colour_b,)
    # both tokens differ: both positions, margins per position
    other = "circle" if shape_a != "circle" else "square"
    e2 = xattr_lab.explain(model, s.image, s.prompt, target=two, contrast=f"{colour_b} {other}", **kw)
    assert e2.positions == (0, 1) and e2.insertion.shape == (2, 5)
    # aligned with the explained positions (tokens=) when the contrast is as long as they are
    e3 = xattr_lab.explain(model, s.image, s.prompt, target=two, tokens=[1], contrast=other, **kw)
    assert e3.positions == (1,) and e3.contrast.tokens == (other,)
    with pytest.raises(ValueError, match=r"contrast: .*tokenises to 2 tokens.*'green', 'star'.*to 1"):
        xattr_lab.explain(model, s.image, s.prompt, contrast=f"{colour_b} star", **kw)
    with pytest.raises(ValueError, match="contrast: .*must differ from the target"):
        xattr_lab.explain(model, s.image, s.prompt, contrast=colour_a, **kw)
    with pytest.raises(ValueError, match="contrast: .*must differ from the target"):
        xattr_lab.explain(model, s.image, s.prompt, target=two, contrast=two, **kw)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"contrast": ""}, ValueError, "contrast: expected a non-empty"),
        ({"contrast": 3.5}, TypeError, "contrast: expected a str"),
        ({"contrast": [1, -2]}, TypeError, "contrast: expected token ids"),
        ({"contrast": "red", "method": "tam"}, ValueError, "contrast: method 'tam'"),
        ({"contrast": "red", "method": "lima", "candidates": ["red"]}, ValueError, "candidates: with a contrast"),
        ({"contrast": "red", "contrast_prefix": "mine"}, ValueError, "contrast_prefix: expected"),
    ],
)
def test_bad_contrasts_are_refused_before_any_forward(model, kwargs, error, match):
    s = sample(SEEDS[0], "colour")
    before = model.n_forward
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "eagle")
    with pytest.raises(error, match=match):
        xattr_lab.explain(model, s.image, s.prompt, method, regions="grid:2", **kwargs)
    assert model.n_forward == before
