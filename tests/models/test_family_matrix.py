"""Family × method matrix (issue 18): every registered method, ``compare``, ``evaluate`` and result save/load
on a tiny random checkpoint of every supported family, saved with ``save_pretrained`` and loaded from its
directory with ``xattr_lab.load_model(dir)`` the way users bring their own model.

A cell passes (a finite map of the image's shape, one score per region, finite AUCs, an exact round trip)
or is refused by the registry with its clear message (a method whose ``needs`` the model's capabilities
lack raises ``ValueError`` naming the missing need). Everything is kept tiny: a 40×52 image, four grid
regions, one explained token, the smallest method parameters (the whole file runs in about 8 s on one thread, so it
is not marked slow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.compare import DEFAULT_METHODS

H, W = 40, 52
PROMPT = "what is in the image ?"
REGIONS = "grid:2"
N_REGIONS = 4
TOKENS = [0]

FAMILY_NAMES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"]

# The smallest parameters that still exercise each method; methods not listed run with their defaults.
PARAMS: dict[str, dict[str, Any]] = {
    "eagle": {"search": "greedy"},
    "lima": {"search": "greedy"},
    "integrated_gradients": {"n_steps": 2},
    "kernel_shap": {"n_samples": 8},
    "lime": {"n_samples": 8},
    "occlusion": {"window": 20, "stride": 20},
    "msea": {"scales": (0.5, 1.0)},
    "tam_msea_arc": {"scales": (0.5, 1.0)},
}

# Cells that fail today (bugs, not refusals): (family, method) -> the error. Each is a strict xfail.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _params(method: str) -> dict[str, Any]:
    """The method's own parameters from ``PARAMS`` (without the shared ``search``)."""
    return {k: v for k, v in PARAMS.get(method, {}).items() if k != "search"}


def _builders() -> dict[str, Any]:
    from test_byom_roundtrip import tiny_idefics3_split, tiny_qwen2_5_vl
    from tiny import FAMILIES

    return {**FAMILIES, "qwen2_5_vl": tiny_qwen2_5_vl, "idefics3_split": tiny_idefics3_split}


def _image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Each family built once, saved with ``save_pretrained`` and loaded back from its directory (cached)."""
    cache: dict[str, tuple[Path, Any, Any]] = {}

    def get(name: str) -> tuple[Path, Any, Any]:
        if name not in cache:
            model, processor = _builders()[name]()
            path = tmp_path_factory.mktemp(f"ckpt_{name}")
            model.save_pretrained(path)
            processor.save_pretrained(path)
            cache[name] = (path, xattr_lab.load_model(path, device="cpu"), xattr_lab.load_model((model, processor)))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def generation(loaded):
    """One generation per family (shared by the method cells so each cell pays only for its method)."""
    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            cache[name] = loaded(name)[1].generate(_image(), PROMPT, max_new_tokens=2)
        return cache[name]

    return get


def _shipped_methods() -> list[str]:
    """Every method the package registers (other test modules register throwaway methods of their own)."""
    from xattr_lab.attr.registry import get_method

    return [m for m in xattr_lab.list_methods() if get_method(m).fn.__module__.startswith("xattr_lab.")]


def _cells() -> list[Any]:
    cells = []
    for family in FAMILY_NAMES:
        for method in _shipped_methods():
            marks = []
            if (family, method) in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[(family, method)]))
            cells.append(pytest.param(family, method, marks=marks, id=f"{family}-{method}"))
    return cells


def _missing_needs(model: Any, method: str) -> set[str]:
    from xattr_lab.attr.registry import get_method

    return set(get_method(method).needs) - set(model.capabilities)


def _check_explanation(e: Any) -> None:
    assert e.pixel_map.shape == (H, W)
    assert np.isfinite(e.pixel_map).all()
    assert e.region_scores.shape == (N_REGIONS,)
    assert np.isfinite(e.region_scores).all()
    assert sorted(e.order.tolist()) == list(range(N_REGIONS))


@pytest.mark.parametrize(("family", "method"), _cells())
def test_every_method_on_every_family(loaded, generation, family, method):
    _, model, _ = loaded(family)
    params = dict(PARAMS.get(method, {}))
    call = dict(tokens=TOKENS, regions=REGIONS, generation=generation(family), progress=False, **params)
    missing = _missing_needs(model, method)
    if missing:
        # Refused by the registry: the error names what the model lacks.
        with pytest.raises(ValueError, match="needs model capabilities") as err:
            xattr_lab.explain(model, _image(), PROMPT, method=method, **call)
        assert all(need in str(err.value) for need in missing)
        return
    e = xattr_lab.explain(model, _image(), PROMPT, method=method, **call)
    assert e.method == method and not e.partial
    _check_explanation(e)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_checkpoint_round_trip_scores_like_the_model_it_was_saved_from(loaded, generation, family):
    _, from_dir, in_memory = loaded(family)
    gen = generation(family)
    masks = np.stack([np.ones((H, W)), np.zeros((H, W))])
    p_dir = np.asarray(from_dir.score(gen, masks, TOKENS))
    gen_mem = in_memory.generate(_image(), PROMPT, max_new_tokens=2)
    assert gen_mem.generated_tokens == gen.generated_tokens
    p_mem = np.asarray(in_memory.score(gen_mem, masks, TOKENS))
    assert np.isfinite(p_dir).all()
    np.testing.assert_allclose(p_dir, p_mem, rtol=1e-5, atol=1e-7)
    assert not np.allclose(p_dir[0], p_dir[1]), "the model's output must depend on the image"


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_evaluate_and_result_save_load(loaded, generation, family, tmp_path):
    _, model, _ = loaded(family)
    e = xattr_lab.explain(
        model, _image(), PROMPT, method="feature_ablation", tokens=TOKENS, regions=REGIONS,
        generation=generation(family), progress=False,
    )
    metrics = xattr_lab.evaluate(model, e)
    for key in ("insertion_auc", "deletion_auc"):
        assert np.isfinite(metrics[key]), key
    back = xattr_lab.load(e.save(tmp_path / "e"))
    assert isinstance(back, xattr_lab.Explanation) and back.method == e.method
    assert back.positions == e.positions and back.generation.generated_tokens == e.generation.generated_tokens
    for name in ("order", "region_scores", "pixel_map", "area", "insertion", "deletion", "reliance"):
        np.testing.assert_array_equal(getattr(back, name), getattr(e, name), err_msg=name)
    assert back.metrics == pytest.approx(e.metrics, nan_ok=True)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_compare_with_the_default_methods(loaded, generation, family, tmp_path):
    _, model, _ = loaded(family)
    cmp = xattr_lab.compare(
        model, _image(), PROMPT, tokens=TOKENS, regions=REGIONS, generation=generation(family),
        params={m: _params(m) for m in DEFAULT_METHODS if _params(m)},
    )
    assert cmp.errors == {}, cmp.errors
    assert len(cmp.rows) == len(cmp.explanations) == len(cmp.methods) > 0
    for e in cmp.explanations:
        _check_explanation(e)
    back = xattr_lab.load(cmp.save(tmp_path / "c"))
    assert back.methods == cmp.methods
