"""Issue 14 item 7: Ctrl-C during a Captum baseline or compare() returns what was computed, marked partial.

Ctrl-C is simulated by a model method raising KeyboardInterrupt once, at its (k+1)-th call, as a user
presses it once; a partial result must then cost no further forward.
"""

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel


class CtrlC:
    """Make ``model.<name>`` raise KeyboardInterrupt at call ``k + 1`` (once); count every call."""

    def __init__(self, monkeypatch, model, name, k):
        self.inner, self.k, self.calls = getattr(model, name), k, 0
        monkeypatch.setattr(model, name, self, raising=False)

    def __call__(self, *args, **kw):
        self.calls += 1
        if self.calls == self.k + 1:
            raise KeyboardInterrupt
        return self.inner(*args, **kw)


@pytest.fixture
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


def explain(model, method, **kw):
    return xattr_lab.explain(model, model.image, "describe", method=method, regions="grid:4", progress=False, **kw)


@pytest.mark.parametrize("method", ["kernel_shap", "lime"])
def test_sampling_baselines_refit_on_the_coalitions_scored_before_ctrl_c(monkeypatch, model, method):
    ctrl_c = CtrlC(monkeypatch, model, "score", k=3)
    e = explain(model, method, n_samples=64, batch_size=8)
    assert e.partial and ctrl_c.calls == 4  # nothing scored after the interrupt, curves included
    k = e.info["n_samples_scored"]
    assert 3 * 8 <= k < 64  # three batches of 8 new coalitions (some drawn twice) were scored
    assert e.cost["n_forward"] == 3 * 8
    assert np.isnan(e.insertion).any()  # curve points never scored are NaN, not invented
    monkeypatch.undo()
    # Captum draws coalitions in the same seeded order for any n_samples: the partial answer is the method
    # run on exactly the coalitions it had scored.
    full = explain(model, method, n_samples=k, batch_size=8)
    assert not full.partial
    np.testing.assert_allclose(e.region_scores, full.region_scores, rtol=1e-6, atol=1e-9)


def test_kernel_shap_interrupted_before_two_coalitions_has_nan_scores(monkeypatch, model):
    ctrl_c = CtrlC(monkeypatch, model, "score", k=0)
    e = explain(model, "kernel_shap", n_samples=64, batch_size=8)
    assert e.partial and ctrl_c.calls == 1 and e.info["n_samples_scored"] == 0
    assert np.isnan(e.region_scores).all() and np.isnan(e.metrics["insertion_auc"])


def test_feature_ablation_keeps_the_regions_it_scored(monkeypatch, model):
    # Captum scores the whole image first (call 1), then the 16 ablations in batches of 4 (calls 2-5).
    CtrlC(monkeypatch, model, "score", k=3)
    e = explain(model, "feature_ablation", batch_size=4)
    monkeypatch.undo()
    full = explain(model, "feature_ablation", batch_size=4)
    scored = np.flatnonzero(np.isfinite(e.region_scores))
    assert e.partial and e.info["n_regions_scored"] == len(scored) == 8
    np.testing.assert_allclose(e.region_scores[scored], full.region_scores[scored], rtol=1e-9)
    assert set(e.order[:8].tolist()) == set(scored.tolist())  # scored regions rank first, unscored last


def test_occlusion_keeps_the_windows_it_scored(monkeypatch, model):
    # 2x2 windows at stride 2 tile the 32x32 image: 256 windows in batches of 64, after the whole image.
    CtrlC(monkeypatch, model, "score", k=3)
    e = explain(model, "occlusion", window=2, stride=2)
    monkeypatch.undo()
    full = explain(model, "occlusion", window=2, stride=2)
    covered = np.isfinite(e.pixel_map)
    assert e.partial and covered.sum() == 2 * 64 * 4  # two batches of 64 windows of 4 pixels
    np.testing.assert_allclose(e.pixel_map[covered], full.pixel_map[covered], rtol=1e-5, atol=1e-6)


def test_occlusion_running_sums_equal_captum_when_complete(model):
    from captum.attr import Occlusion

    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import PixelMaskForward, ones_mask
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.scoring.subsets import SubsetScorer

    gen = model.generate(model.image, "describe")
    regions = make_regions("grid:4", gen.image)
    ctx = MethodContext(model, gen, regions, (0, 1), SubsetScorer(model, gen, regions, (0, 1)))
    forward = PixelMaskForward(ctx)
    attr = Occlusion(forward).attribute(
        ones_mask(ctx), sliding_window_shapes=(6, 6), strides=(3, 3), baselines=0.0, perturbations_per_eval=16
    )
    np.testing.assert_allclose(forward.occlusion_map(), attr[0].numpy(), rtol=1e-5, atol=1e-7)


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=3, task="colour"))
    return model, s


def test_integrated_gradients_keeps_the_finished_passes(monkeypatch, toy):
    """Partial IG = the sum over the finished passes: the first steps of the path from the baseline."""
    import torch
    from captum.attr._utils.approximation_methods import approximation_parameters

    from xattr_lab.attr.context import MethodContext
    from xattr_lab.attr.methods._captum import PixelForward
    from xattr_lab.inputs.regions import make_regions
    from xattr_lab.models.whitebox import to_image_map
    from xattr_lab.scoring.subsets import SubsetScorer

    model, s = toy
    ctrl_c = CtrlC(monkeypatch, model, "pixel_forward", k=1)  # the second of two passes is interrupted
    e = xattr_lab.explain(model, s.image, s.prompt, method="integrated_gradients", regions="grid:2",
                          max_new_tokens=1, n_steps=4, internal_batch_size=2)  # fmt: skip
    assert e.partial and e.info["n_steps_done"] == 2 and ctrl_c.calls == 2
    monkeypatch.undo()
    # The same two steps by hand: sum_i w_i * grad f(b + a_i (x - b)) * (x - b) for the first two (w, a).
    regions = make_regions("grid:2", e.generation.image)
    scorer = SubsetScorer(model, e.generation, regions, e.positions)
    ctx = MethodContext(model, e.generation, regions, e.positions, scorer)
    forward = PixelForward(ctx)
    x, b = forward.inputs()
    sizes, alphas = (f(4)[:2] for f in approximation_parameters("gausslegendre"))
    total = torch.zeros_like(x)
    for w, a in zip(sizes, alphas):
        point = (b + a * (x - b)).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(forward(point).sum(), point)
        total += w * grad * (x - b)
    expected = to_image_map(model, e.generation, total.reshape(-1, *total.shape[-3:])[0].sum(0).detach().numpy())
    np.testing.assert_allclose(e.pixel_map, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["saliency", "layer_gradcam", "integrated_gradients"])
def test_one_pass_gradient_methods_return_an_empty_partial_result_and_leave_no_hook(monkeypatch, toy, method):
    from xattr_lab.models.whitebox import vision_conv

    model, s = toy
    CtrlC(monkeypatch, model, "pixel_forward", k=0)
    e = xattr_lab.explain(model, s.image, s.prompt, method=method, regions="grid:2", max_new_tokens=1)
    assert e.partial and np.isnan(e.region_scores).all()
    conv = vision_conv(model)
    assert not conv._forward_hooks and not conv._backward_hooks and not conv._forward_pre_hooks


def _score_calls(model, fn):
    """How many ``model.score`` calls ``fn()`` makes."""
    inner, count = model.score, [0]

    def counted(*a, **kw):
        count[0] += 1
        return inner(*a, **kw)

    model.score = counted
    try:
        fn()
    finally:
        del model.score
    return count[0]


def test_compare_stops_at_ctrl_c_and_marks_the_partial_row(monkeypatch, model):
    gen = model.generate(model.image, "describe")
    kw = {"regions": "grid:4", "generation": gen, "batch_size": 4, "mask": model.object_masks[0]}
    before_eagle = _score_calls(model, lambda: xattr_lab.compare(model, None, "describe", ["random"], **kw))
    ctrl_c = CtrlC(monkeypatch, model, "score", k=before_eagle + 3)  # three steps into EAGLE's search
    cmp = xattr_lab.compare(model, None, "describe", ["random", "eagle", "feature_ablation"], **kw)
    assert ctrl_c.calls == before_eagle + 4  # no rescoring, no next method after the Ctrl-C
    assert [r["method"] for r in cmp.rows] == ["random", "eagle"]
    assert [r["partial"] for r in cmp.rows] == [False, True]
    assert cmp.partial and cmp.info["interrupted"] and cmp.info["not_run"] == ["feature_ablation"]
    eagle = cmp.rows[1]
    # the partial row is what EAGLE measured (NaN where its curves were not scored), not a rescore
    assert np.isnan(eagle["insertion_auc"]) and np.isnan(cmp["eagle"].metrics["insertion_auc"])
    assert np.isnan(eagle["pointing_game"]) and cmp.rows[0]["pointing_game"] in (0.0, 1.0)
    assert "partial" in repr(cmp)


def test_compare_ctrl_c_while_rescoring_keeps_the_row_unrescored(monkeypatch, model):
    gen = model.generate(model.image, "describe")
    kw = {"regions": "grid:4", "generation": gen, "batch_size": 4}
    own = _score_calls(model, lambda: xattr_lab.explain(model, None, "describe", "random", **kw))
    CtrlC(monkeypatch, model, "score", k=own + 1)  # inside evaluate()'s rescoring of the first method
    cmp = xattr_lab.compare(model, None, "describe", ["random", "eagle"], **kw)
    assert [r["partial"] for r in cmp.rows] == [True] and cmp.info["not_run"] == ["eagle"]
    assert cmp.rows[0]["insertion_auc"] == cmp["random"].metrics["insertion_auc"]  # its own curves


def test_compare_ctrl_c_before_any_method_finished_raises(monkeypatch, model):
    from xattr_lab.attr.registry import _REGISTRY, register_method

    @register_method("test_interrupt_no_partial")
    def no_partial(ctx):
        raise KeyboardInterrupt  # a method without partial results

    try:
        with pytest.raises(KeyboardInterrupt):
            xattr_lab.compare(model, model.image, "describe", ["test_interrupt_no_partial", "random"], regions="grid:2")
        cmp = xattr_lab.compare(model, model.image, "describe", ["random", "test_interrupt_no_partial", "eagle"],
                                regions="grid:2")  # fmt: skip
        assert cmp.methods == ("random",) and cmp.info["not_run"] == ["test_interrupt_no_partial", "eagle"]
        assert cmp.partial and cmp.rows[0]["partial"] is False
    finally:
        _REGISTRY.pop("test_interrupt_no_partial", None)


def test_explore_shows_a_partial_result_without_caching_it(monkeypatch, model):
    from xattr_lab.viz.explore import explore

    w = explore(model, model.image, "describe", regions="grid:4", progress=False)
    ctrl_c = CtrlC(monkeypatch, model, "score", k=2)  # inside EAGLE's search for the clicked token
    first = w.show(1)
    assert first.partial and 1 not in w.explanations and "interrupted" in w.status
    second = w.show(1)  # clicked again: computed afresh, complete, now cached
    assert not second.partial and w.explanations[1] is second and w.status == ""
    assert ctrl_c.calls > 3


def test_a_refit_never_scores_after_ctrl_c_even_if_the_cache_lacks_a_coalition(monkeypatch, model):
    from xattr_lab.attr.methods import _captum

    monkeypatch.setattr(_captum.RegionForward, "scored_prefix", lambda self: 40)  # claims more than was scored
    ctrl_c = CtrlC(monkeypatch, model, "score", k=1)
    e = explain(model, "kernel_shap", n_samples=64, batch_size=8)
    assert e.partial and np.isnan(e.region_scores).all() and ctrl_c.calls == 2
