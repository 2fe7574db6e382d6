import numpy as np
import pytest
import torch

from xattr_lab.attr.methods.arc import context_relevance, rbo
from xattr_lab.models.whitebox import LensReadout


def test_rbo_bounds_and_order():
    ref = np.arange(10)
    assert rbo(ref[None], ref)[0] == pytest.approx(1.0)
    assert rbo(np.arange(10, 20)[None], ref)[0] == 0.0
    top_swap = np.r_[1, 0, np.arange(2, 10)]
    tail_swap = np.r_[np.arange(8), 9, 8]
    scores = rbo(np.stack([top_swap, tail_swap]), ref)
    assert 0 < scores[0] < scores[1] < 1  # disagreement at the top costs more
    with pytest.raises(ValueError, match="lists"):
        rbo(np.arange(5)[None], ref)
    with pytest.raises(ValueError, match="p"):
        rbo(ref[None], ref, p=1.0)


def test_context_relevance_prefers_context_that_predicts_alike():
    hidden = torch.tensor([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0], [3.0, 2.1, 0.9, 0.0]])
    lens = LensReadout(hidden, torch.tensor([0, 1, 2]), 2, np.zeros(0, dtype=np.int64), (0, 0), torch.eye(4), None)
    r = context_relevance(lens, np.array([0, 1]), 2, k=4)
    assert r[0] > r[1]
    assert context_relevance(lens, np.zeros(0, dtype=np.int64), 2).shape == (0,)
    with pytest.raises(ValueError, match="k"):
        context_relevance(lens, np.array([0]), 2, k=0)
