"""TAM's ``variant="reference"``: xmed-lab/TAM's choices, restated here as loops from the reference's behaviour."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

import xattr_lab
from xattr_lab.attr.methods.tam import VARIANTS, prompt_positions, rank_gaussian_filter, token_map
from xattr_lab.models.whitebox import LensReadout


def spec_filter(grid):
    """The rank Gaussian filter as the reference loops it (reflect padding), a flat window keeping its value."""
    padded = np.pad(grid, 1, mode="reflect")
    out = np.zeros_like(grid)
    ax = np.arange(9) - 4
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            values = np.sort(padded[i : i + 3, j : j + 3].ravel())
            mean = values.mean()
            if mean <= 0:
                continue
            sigma = values.std() / mean
            if sigma == 0:
                out[i, j] = values[4]
                continue
            kernel = np.exp(-(ax**2) / (2 * sigma**2))
            out[i, j] = (values * kernel / kernel.sum()).sum()
    return out


def spec_map(logits, ids, n_input, image, grid, prompt, r):
    """Generated token r's reference-variant map, step by step (ECI's scale by a scalar minimiser)."""
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    cls = ids[n_input + r]
    text_pos = list(prompt) + [n_input + q for q in range(r)]
    raw = relu(logits[image, cls])
    context = [j for j in text_pos if ids[j] != cls]
    if context:
        w = relu(logits[context, cls])
        w = w / (w.sum() + 1e-8)
        interference = sum(w[i] * relu(logits[image, ids[j]]) for i, j in enumerate(context))
        alpha = minimize_scalar(lambda a: ((raw - a * interference) ** 2).sum()).x
        raw = relu(raw - alpha * interference)
    text = relu(logits[text_pos, cls])
    everything = np.r_[raw, text]
    lo, hi = everything.min(), everything.max()
    return spec_filter(((raw - lo) / (hi - lo)).reshape(grid))


def constructed(seed):
    """System tokens, an image grid, a prompt, a two-token template and R generated tokens, random logits."""
    rng = np.random.default_rng(seed)
    v, (h, w), m, n_gen = 30, (int(rng.integers(2, 6)), int(rng.integers(2, 6))), int(rng.integers(1, 5)), 5
    prompt_ids = rng.choice(np.arange(10, 20), m, replace=False)
    gen_ids = rng.choice(np.r_[prompt_ids, np.arange(20, 24)], n_gen)  # repeats happen
    ids = np.r_[0, 1, [2] * (h * w), prompt_ids, 3, 4, gen_ids].astype(np.int64)
    logits = rng.normal(0, 2, (len(ids), v)).astype(np.float32)
    logits[2 : 2 + h * w, 20:24] += rng.gamma(2, 2, (h * w, 4)).astype(np.float32)
    image, prompt = np.arange(2, 2 + h * w), np.arange(2 + h * w, 2 + h * w + m)
    hidden = torch.as_tensor(logits.copy())
    lens = LensReadout(hidden, torch.as_tensor(ids), len(ids) - n_gen, image, (h, w), torch.eye(v), None)
    return lens, logits.astype(np.float64), ids, image, prompt


@pytest.mark.parametrize("seed", range(6))
def test_reference_variant_matches_the_step_by_step_definition(seed):
    lens, logits, ids, image, prompt = constructed(seed)
    for r in range(5):
        got, context, _ = token_map(lens, r, variant="reference", prompt=prompt)
        want = spec_map(logits, ids, lens.n_input, image, lens.grid, prompt, r)
        np.testing.assert_allclose(got, want, atol=1e-6)
        # the context: the prompt and earlier generated tokens, never the system prompt or the template
        allowed = set(prompt.tolist()) | {lens.n_input + q for q in range(r)}
        assert set(context.tolist()) <= allowed and all(ids[j] != ids[lens.n_input + r] for j in context)


def test_the_variants_differ_where_the_reference_chooses_differently():
    lens, _, ids, _, prompt = constructed(0)
    ref, ref_ctx, _ = token_map(lens, 3, variant="reference", prompt=prompt)
    ours, ours_ctx, _ = token_map(lens, 3)
    assert {0, 1, lens.n_input - 2, lens.n_input - 1} & set(ours_ctx.tolist())  # system/template in the default
    assert not {0, 1, lens.n_input - 2, lens.n_input - 1} & set(ref_ctx.tolist())
    assert np.abs(ref - ours).max() > 1e-3


def test_generated_token_0_gets_its_own_map_and_context_is_read_at_its_own_position():
    lens, logits, ids, image, prompt = constructed(1)
    # the reference's bug: the class predicted at the first prompt position stands in for token 0's class
    lens.hidden[prompt[0], 25] = logits[prompt[0], 25] = 100.0  # class 25 is no token of the sequence
    got = token_map(lens, 0, use_eci=False, use_filter=False, variant="reference", prompt=prompt)[0].ravel()
    for cls, should_match in ((ids[lens.n_input], True), (25, False)):
        raw, text = np.maximum(logits[image, cls], 0), np.maximum(logits[prompt, cls], 0)
        lo, hi = min(raw.min(), text.min()), max(raw.max(), text.max())
        assert np.allclose(got, (raw - lo) / (hi - lo), atol=1e-6) == should_match
    # a generated context token is weighted by the logit at its own position, not at the one before it
    kw = {"use_eci": False, "use_filter": False, "normalise": False, "variant": "reference", "prompt": prompt}
    _, context, scores = token_map(lens, 4, **kw)
    cls = ids[lens.n_input + 4]
    np.testing.assert_allclose(scores, np.maximum(logits[context, cls], 0), atol=1e-6)
    generated = context >= lens.n_input
    assert generated.any()
    assert not np.allclose(scores[generated], np.maximum(logits[context[generated] - 1, cls], 0))


def test_flat_inputs_give_no_nan():
    flat = np.full((4, 4), 0.3)
    np.testing.assert_allclose(rank_gaussian_filter(flat, "reflect"), flat)  # the reference gives NaN here
    ids = torch.tensor([0, 2, 2, 2, 2, 5, 3, 6])
    lens = LensReadout(torch.zeros(8, 8), ids, 7, np.arange(1, 5), (2, 2), torch.eye(8), None)
    grid = token_map(lens, 0, variant="reference", prompt=np.array([5]))[0]
    assert np.isfinite(grid).all() and (grid == 0).all()


def test_reflect_and_edge_padding_differ_only_at_the_border():
    rng = np.random.default_rng(3)
    grid = rng.random((5, 6))
    edge, reflect = rank_gaussian_filter(grid, "edge"), rank_gaussian_filter(grid, "reflect")
    np.testing.assert_allclose(reflect, spec_filter(grid), atol=1e-12)
    np.testing.assert_allclose(edge[1:-1, 1:-1], reflect[1:-1, 1:-1])
    assert not np.allclose(edge, reflect)
    with pytest.raises(ValueError, match="padding"):
        rank_gaussian_filter(grid, "wrap")


def test_bad_variant_and_missing_prompt_are_refused():
    lens = constructed(0)[0]
    assert VARIANTS == ("default", "reference")
    with pytest.raises(ValueError, match="variant"):
        token_map(lens, 0, variant="paper")
    with pytest.raises(ValueError, match="prompt"):
        token_map(lens, 0, variant="reference")


class _Tokenizer:
    """Word-level; alone, the first word gets a marker the template's context does not give it."""

    vocab = {"<s>": 0, "<image>": 1, "USER:": 2, "what": 3, "colour": 4, "?": 5, "ASSISTANT:": 6, "_what": 7}

    def __call__(self, text, add_special_tokens=False):
        words = text.split()
        return {"input_ids": [self.vocab["_" + words[0]]] + [self.vocab[w] for w in words[1:]]}

    def decode(self, ids):
        inverse = {v: k for k, v in self.vocab.items()}
        return " ".join(inverse[int(i)] for i in ids)


class _Model:
    tokenizer = _Tokenizer()
    image_token_id = 1


class _Gen:
    def __init__(self, prompt, ids):
        self.prompt, self.input_ids, self.image_token_span = prompt, torch.tensor(ids), (1, 3)


def test_prompt_positions_fall_back_to_decoding_and_then_to_all_text():
    gen = _Gen("what colour ?", [0, 1, 1, 2, 3, 4, 5, 6])
    assert prompt_positions(_Model(), gen).tolist() == [4, 5, 6]  # found by decoding, not by ids
    with pytest.warns(UserWarning, match="not found"):
        missing = prompt_positions(_Model(), _Gen("what ?", [0, 1, 1, 2, 3, 4, 6]))
    assert missing.tolist() == [0, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=5, task="colour"))
    return model, s, model.generate(s.image, s.prompt, max_new_tokens=3)


def test_reference_variant_on_the_shapes_vlm(toy):
    model, s, gen = toy
    span = prompt_positions(model, gen)
    assert model.tokenizer.decode(gen.input_ids[span]).strip() == s.prompt.strip()
    for method in ("tam", "arc"):
        kw = {"generation": gen, "regions": "grid:3", "variant": "reference"}
        e = xattr_lab.explain(model, s.image, s.prompt, method=method, **kw)
        assert e.pixel_map.shape == s.image.shape[:2] and 0 <= e.pixel_map.min() and e.pixel_map.max() <= 1 + 1e-6
    with pytest.raises(ValueError, match="variant"):
        xattr_lab.explain(model, s.image, s.prompt, method="tam", generation=gen, regions="grid:3", variant="x")
