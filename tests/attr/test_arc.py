import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.attr.methods.arc import context_relevance, rbo_form
from xattr_lab.metrics.rank_similarity import rbo_ext, rbo_truncated
from xattr_lab.models.whitebox import LensReadout


def lens_of(hidden):
    n, no_image = hidden.shape[0], np.zeros(0, dtype=np.int64)
    return LensReadout(hidden, torch.arange(n), n - 1, no_image, (0, 0), torch.eye(hidden.shape[1]), None)


def test_context_relevance_prefers_context_that_predicts_alike():
    hidden = torch.tensor([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0], [3.0, 2.1, 0.9, 0.0]])
    lens = lens_of(hidden)
    r = context_relevance(lens, np.array([0, 1]), 2, k=4)
    assert r[0] > r[1]
    assert context_relevance(lens, np.zeros(0, dtype=np.int64), 2).shape == (0,)
    with pytest.raises(ValueError, match="k"):
        context_relevance(lens, np.array([0]), 2, k=0)
    with pytest.raises(ValueError, match="rbo"):
        context_relevance(lens, np.array([0]), 2, rbo="normalised")


def test_relevance_is_the_named_rbo_of_the_logit_lens_top_k():
    rng = np.random.default_rng(0)
    hidden = torch.as_tensor(rng.normal(size=(6, 40)).astype(np.float32))
    hidden[1] = hidden[5]  # position 1 predicts exactly what the current position 5 predicts
    lens, k, p = lens_of(hidden), 10, 0.8
    top = hidden.topk(k, dim=-1).indices.numpy()
    for form, fn in (("truncated", rbo_truncated), ("ext", rbo_ext)):
        got = context_relevance(lens, np.arange(5), 5, k=k, p=p, rbo=form)
        np.testing.assert_allclose(got, fn(top[:5], top[5], p))
        assert rbo_form(form) is fn
    # identical predictions: the truncated sum stops at 1 − p^k, the extrapolated RBO reaches 1
    assert context_relevance(lens, np.array([1]), 5, k=k, p=p)[0] == pytest.approx(1 - p**k)
    assert context_relevance(lens, np.array([1]), 5, k=k, p=p, rbo="ext")[0] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=2, task="caption"))
    return model, s, model.generate(s.image, s.prompt, max_new_tokens=4)


def test_arc_forms_on_the_shapes_vlm(toy):
    model, s, gen = toy
    maps = {}
    for form in ("truncated", "ext"):
        e = xattr_lab.explain(model, s.image, s.prompt, method="arc", generation=gen, regions="grid:3", rbo=form)
        assert e.params["rbo"] == form and e.params["variant"] == "default"
        maps[form] = e.pixel_map
    # the forms differ by A_k·p^k ≤ 0.9^43 on the toy's 43-word vocabulary: the maps barely move
    assert np.abs(maps["truncated"] - maps["ext"]).max() < 0.05
    with pytest.raises(ValueError, match="rbo"):
        xattr_lab.explain(model, s.image, s.prompt, method="arc", generation=gen, regions="grid:3", rbo="min")
