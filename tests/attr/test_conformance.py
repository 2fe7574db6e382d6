"""Conformance over every registered method: shapes, determinism, hooks, save/load, declared needs.

Parametrised over ``list_methods()`` so a newly registered method is checked without touching this file.
Runs on the ShapesVLM (white-box capable) with a 3×3 grid of regions and light method parameters.
"""

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.attr.registry import get_method, list_methods

METHODS = list_methods()
REGIONS = "grid:3"
LIGHT = {
    "kernel_shap": {"n_samples": 16},
    "lime": {"n_samples": 16},
    "integrated_gradients": {"n_steps": 4},
    "occlusion": {"window": 32, "stride": 32},
    "msea": {"scales": (0.5, 1.0)},
    "tam_msea_arc": {"scales": (0.5, 1.0)},
}
CAPABILITIES = {"scores", "text", "gradients", "hidden_states", "attention"}


class LimitedModel:
    """The ShapesVLM with some capabilities withdrawn (everything else delegated)."""

    def __init__(self, inner, capabilities):
        self._inner = inner
        self.capabilities = frozenset(capabilities)

    def __getattr__(self, name):
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def model():
    return xattr_lab.load_model("toy-shapes", device="cpu")


@pytest.fixture(scope="module")
def case(model):
    from xattr_lab.datasets import shapes

    s = next(shapes(1, seed=1, task="colour"))
    return s, model.generate(s.image, s.prompt, max_new_tokens=2)


_CACHE = {}


def explained(model, case, method):
    """One shared explanation per method (seed 0) for the read-only checks."""
    if method not in _CACHE:
        _CACHE[method] = run(model, case, method)
    return _CACHE[method]


def run(model, case, method, seed=0, **kw):
    s, gen = case
    return xattr_lab.explain(
        model, s.image, s.prompt, method=method, tokens=[0], regions=REGIONS, generation=gen, seed=seed,
        progress=False, **{**LIGHT.get(method, {}), **kw},
    )  # fmt: skip


def hook_count(module):
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in module.modules()
    )


def test_registry_lists_the_builtins():
    expected = {"eagle", "lima", "random", "integrated_gradients", "saliency", "layer_gradcam", "occlusion",
                "feature_ablation", "kernel_shap", "lime", "tam", "msea", "arc", "tam_msea_arc"}  # fmt: skip
    assert expected <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_declares_family_and_needs(method):
    spec = get_method(method)
    assert spec.family in {"search", "map", "baseline"}
    assert set(spec.needs) <= CAPABILITIES
    assert spec.description


@pytest.mark.parametrize("method", METHODS)
def test_shapes(model, case, method):
    e = explained(model, case, method)
    n = e.regions.n
    assert n == 9 and e.method == method
    assert sorted(e.order.tolist()) == list(range(n))
    assert e.region_scores.shape == (n,) and np.isfinite(e.region_scores).all()
    assert e.pixel_map.shape == case[0].image.shape[:2] and e.pixel_map.dtype == np.float32
    assert np.isfinite(e.pixel_map).all()
    assert e.insertion.shape == e.deletion.shape == (1, n + 1)
    assert e.area[0] == 0 and np.isclose(e.area[-1], 1)
    assert np.isfinite([e.insertion_auc, e.deletion_auc]).all()
    assert e.cost["n_forward"] > 0 and "\n" not in repr(e)


@pytest.mark.parametrize("method", METHODS)
def test_deterministic_under_a_seed(model, case, method):
    a, b = explained(model, case, method), run(model, case, method)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_allclose(a.pixel_map, b.pixel_map, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.region_scores, b.region_scores, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_hooks_removed_after_an_error(model, case, method):
    net = model.model
    before, grad_mode = hook_count(net), torch.is_grad_enabled()
    requires = [p.requires_grad for p in net.parameters()]

    def boom(module, args, kwargs):
        raise RuntimeError("injected failure")

    handle = net.register_forward_pre_hook(boom, with_kwargs=True)
    try:
        with pytest.raises(RuntimeError, match="injected failure"):
            run(model, case, method)
    finally:
        handle.remove()
    assert hook_count(net) == before
    assert torch.is_grad_enabled() == grad_mode
    assert [p.requires_grad for p in net.parameters()] == requires
    run(model, case, method)  # and the model still works


@pytest.mark.parametrize("method", METHODS)
def test_save_load_round_trip(model, case, method, tmp_path):
    e = explained(model, case, method)
    back = xattr_lab.load(e.save(tmp_path / method))
    assert type(back).__name__ == "Explanation" and back.method == method
    np.testing.assert_array_equal(back.order, e.order)
    np.testing.assert_array_equal(back.pixel_map, e.pixel_map)
    np.testing.assert_array_equal(back.insertion, e.insertion)
    assert back.params == e.params
    assert back.metrics.keys() == e.metrics.keys()
    np.testing.assert_array_equal([back.metrics[k] for k in e.metrics], list(e.metrics.values()))
    assert back.generation.generated_tokens == e.generation.generated_tokens


@pytest.mark.parametrize("method", METHODS)
def test_clear_error_when_the_model_lacks_a_need(model, case, method):
    needs = set(get_method(method).needs)
    if not needs:
        pytest.skip(f"{method} declares no needs beyond the protocol")
    limited = LimitedModel(model, set(model.capabilities) - needs)
    with pytest.raises(ValueError, match=rf"{method}.*needs model capabilities"):
        run(limited, case, method)
