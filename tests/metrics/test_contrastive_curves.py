"""``evaluate`` measures a contrastive explanation on its margin, in float64, as ``explain`` did."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.datasets.shapes import sample


@pytest.fixture(scope="module")
def model():
    return xattr_lab.load_model("toy-shapes")


@pytest.fixture(scope="module")
def explained(model):
    s = sample(3014, "colour")  # "what colour is the square ?": yellow square, red object
    gen = model.generate(s.image, s.prompt, max_new_tokens=3)
    other = [o.split()[0] for o in s.objects if o.split()[0] != gen.generated_tokens[0]][0]
    e = xattr_lab.explain(model, None, s.prompt, "eagle", regions="grid:3", generation=gen, contrast=other)
    return s, gen, other, e


def test_evaluate_reproduces_the_margin_curves(model, explained):
    s, gen, other, e = explained
    out = xattr_lab.evaluate(model, e)
    for key in ("insertion_auc", "deletion_auc", "p_full", "p_empty", "ahs"):
        # same order and reading; float32 forwards batched differently differ in the last bits only
        assert out[key] == pytest.approx(e.metrics[key], rel=1e-6, abs=1e-6)
    assert e.insertion.dtype == np.float64
    # the end points are the margin computed directly from two scorings
    m = torch.stack([torch.ones(96, 96), torch.zeros(96, 96)])
    pt = model.score(gen, m, positions=[0]).double().numpy()[:, 0]
    pc = model.score(model.with_target(gen, other), m, positions=[0]).double().numpy()[:, 0]
    direct = np.log(pt) - np.log(pc)
    assert out["p_full"] == pytest.approx(direct[0], abs=1e-4)
    assert out["p_empty"] == pytest.approx(direct[1], abs=1e-4)
    assert direct[0] > direct[1]  # the scene widens the margin over the black image (which leans yellow too)


def test_a_plain_explanation_still_measures_probabilities(model, explained):
    s, gen, other, e = explained
    plain = xattr_lab.explain(model, None, s.prompt, "random", regions="grid:3", generation=gen)
    out = xattr_lab.evaluate(model, plain)
    assert 0.0 <= out["p_full"] <= 1.0 and 0.0 <= out["insertion_auc"] <= 1.0


def test_metrics_never_import_attr():
    import ast
    import inspect

    import xattr_lab.metrics.evaluate as ev

    tree = ast.parse(inspect.getsource(ev))
    names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(name and name.startswith("xattr_lab.attr") for name in names)
