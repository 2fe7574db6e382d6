"""Issue 14 item 6: explain(), compare() and explore() name a bad argument at their boundary.

Before, these failed inside numpy ("expected non-negative integer"), the registry ("unhashable type:
'list'"), ``int()`` ("invalid literal for int() with base 10: 'red'") or with an AttributeError, or were
accepted silently (a token id 1.5 became 1); explore() reported a bad method only at the first click.
"""

import numpy as np
import pytest

import xattr_lab
from xattr_lab.attr.synthetic import SyntheticModel


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


class _CountingModel:
    """Wraps a model and counts generate/score calls, to show a refusal happens before any model work."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name in ("generate", "score"):

            def counted(*a, **kw):
                self.calls += 1
                return attr(*a, **kw)

            return counted
        return attr


BAD = [
    ({"method": ["eagle", "random"]}, TypeError, r"method: expected a method name \(str\), got list; .*compare"),
    ({"method": None}, TypeError, "method: expected a method name"),
    ({"seed": -1}, ValueError, "seed: expected 0 <= seed"),
    ({"seed": 2**63}, ValueError, "seed: expected 0 <= seed"),
    ({"seed": 1.5}, TypeError, "seed: expected an int, got float"),
    ({"seed": "1"}, TypeError, "seed: expected an int, got str"),
    ({"seed": True}, TypeError, "seed: expected an int, got bool"),
    ({"target": ["red"]}, TypeError, "target: expected token ids .*str 'red' at index 0"),
    ({"target": [1.5]}, TypeError, "target: expected token ids .*float 1.5"),
    ({"target": []}, ValueError, "target: expected at least one token id"),
    ({"target": [3, -1]}, ValueError, "target: token ids must be >= 0, got -1 at index 1"),
    ({"target": "  "}, ValueError, "target: expected a non-empty answer text"),
    ({"target": 7}, TypeError, "target: expected a str or a list of token ids, got int"),
    ({"target": np.zeros((2, 2), dtype=int)}, ValueError, r"target: expected a 1-D sequence"),
    ({"generation": "a generation"}, TypeError, "generation: expected a Generation .*got str"),
    ({"generation": {"image": None}}, TypeError, "generation: expected a Generation .*got dict"),
]


@pytest.mark.parametrize("kw, err, words", BAD, ids=[repr(b[0])[:40] for b in BAD])
def test_explain_names_the_bad_argument_before_any_model_work(model, kw, err, words):
    counting = _CountingModel(model)
    args = {"method": "random", "regions": "grid:2", **kw}
    with pytest.raises(err, match=words):
        xattr_lab.explain(counting, model.image, "describe", **args)
    assert counting.calls == 0


@pytest.mark.parametrize("kw, err, words", [b for b in BAD if "method" not in b[0]], ids=lambda v: repr(v)[:30])
def test_compare_names_the_bad_argument_before_any_model_work(model, kw, err, words):
    counting = _CountingModel(model)
    with pytest.raises(err, match=words):
        xattr_lab.compare(counting, model.image, "describe", ["random"], regions="grid:2", **kw)
    assert counting.calls == 0


def test_compare_checks_methods_box_and_mask_up_front(model):
    counting = _CountingModel(model)
    with pytest.raises(TypeError, match=r"methods: expected method names \(str\), got list"):
        xattr_lab.compare(counting, model.image, "describe", ["random", ["eagle"]])
    with pytest.raises(ValueError, match="box: expected x0 < x1"):
        xattr_lab.compare(counting, model.image, "describe", ["random"], box=(9, 9, 1, 1))
    assert counting.calls == 0
    # the image's bounds and the mask's shape need the image: checked after generating, before any method
    with pytest.raises(ValueError, match="box: .* outside the 32x32 image"):
        xattr_lab.compare(counting, model.image, "describe", ["random"], box=(40, 40, 50, 50))
    with pytest.raises(ValueError, match=r"mask: shape \(8, 8\) does not match the image \(32, 32\)"):
        xattr_lab.compare(counting, model.image, "describe", ["random"], mask=np.ones((8, 8), bool))
    assert counting.calls == 2  # the two generations; no scoring


def test_valid_forms_are_still_accepted(model):
    gen = model.generate(model.image, "describe")
    ids = gen.generated_ids.tolist()
    for target in (ids, tuple(ids), np.array(ids), gen.generated_ids, [np.int64(i) for i in ids]):
        e = xattr_lab.explain(model, model.image, "describe", method="random", regions="grid:2", target=target)
        assert e.generation.generated_ids.tolist() == ids
    e = xattr_lab.explain(model, None, "describe", method="random", regions="grid:2", generation=gen, seed=np.int64(3))
    assert e.info["seed"] == 3


def test_explore_checks_the_method_when_called(model):
    from xattr_lab.viz.explore import Explorer, explore

    counting = _CountingModel(model)
    with pytest.raises(ValueError, match="method: unknown method 'eagel'"):
        explore(counting, model.image, "describe", method="eagel")
    with pytest.raises(TypeError, match="method: expected a method name"):
        explore(counting, model.image, "describe", method=["eagle"])
    with pytest.raises(ValueError, match="method: 'saliency' needs model capabilities"):
        explore(counting, model.image, "describe", method="saliency")  # the synthetic model has no gradients
    with pytest.raises(ValueError, match="search: unknown search 'greedyy'"):
        explore(counting, model.image, "describe", search="greedyy")
    with pytest.raises(ValueError, match="seed"):
        explore(counting, model.image, "describe", seed=-3)
    with pytest.raises(TypeError, match="tokens: explore"):
        explore(counting, model.image, "describe", tokens=[0])
    assert counting.calls == 0  # refused before generating
    w = explore(model, model.image, "describe", method="random", regions="grid:2")
    assert isinstance(w, Explorer) and w.show(0).method == "random" and w.error == ""
