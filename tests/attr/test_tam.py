import numpy as np
import pytest
import torch

import xattr_lab
from xattr_lab.attr.methods.tam import eci, rank_gaussian_filter, token_map
from xattr_lab.models.whitebox import LensReadout


def test_rank_gaussian_filter_keeps_flat_maps_and_removes_spikes():
    flat = np.full((5, 5), 0.4)
    np.testing.assert_allclose(rank_gaussian_filter(flat), flat)
    assert (rank_gaussian_filter(np.zeros((4, 4))) == 0).all()
    spike = np.zeros((5, 5))
    spike[2, 2] = 1.0
    assert rank_gaussian_filter(spike)[2, 2] < 0.5  # a lone spike is noise
    blob = np.zeros((6, 6))
    blob[1:5, 1:5] = 1.0
    assert rank_gaussian_filter(blob)[2, 2] == pytest.approx(1.0)  # a solid object survives


def test_eci_subtracts_the_context_interference():
    obj = np.array([0.0, 0.0, 1.0, 1.0])
    shared = np.array([1.0, 1.0, 1.0, 0.0])  # what the context already lights up
    out = eci(obj + 2 * shared, shared[None], np.array([1.0]))
    assert out[2] > out[0] and out[3] > out[1]
    np.testing.assert_allclose(eci(obj, shared[None], np.array([0.0])), obj)  # no weight, no change


def fake_lens():
    """Vocabulary 4, hidden = one-hot classes: 2 text tokens, a 2×2 image grid, 2 generated tokens."""
    ids = torch.tensor([0, 1, 9, 9, 9, 9, 2, 3])
    hidden = torch.zeros(8, 4)
    hidden[0, 0] = hidden[1, 1] = 1.0
    hidden[2:6, 1] = 1.0  # every image cell says class 1 (context interference)
    hidden[3, 2] = 3.0  # cell (0, 1) says class 2: the object of generated token 0
    hidden[6, 2] = 1.0
    hidden[7, 3] = 1.0
    return LensReadout(hidden, ids, 6, np.arange(2, 6), (2, 2), torch.eye(4), None)


def test_token_map_finds_the_tokens_cell():
    grid, context, text = token_map(fake_lens(), 0, use_filter=False)
    assert grid.shape == (2, 2) and int(np.argmax(grid)) == 1
    assert context.tolist() == [0, 1] and text.shape == (2,)
    assert 0 <= grid.min() and max(grid.max(), text.max()) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def toy():
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=2, task="caption"))
    return model, s, model.generate(s.image, s.prompt, max_new_tokens=4)


@pytest.mark.parametrize("method", ["tam", "arc", "tam_msea_arc"])
def test_white_box_maps_on_the_shapes_vlm(toy, method):
    model, s, gen = toy
    kw = {"scales": (0.5, 1.0, 1.5)} if method == "tam_msea_arc" else {}
    e = xattr_lab.explain(model, s.image, s.prompt, method=method, generation=gen, regions="grid:3", **kw)
    assert e.pixel_map.shape == (96, 96) and 0 <= e.pixel_map.min() and e.pixel_map.max() <= 1 + 1e-6
    assert e.info["n_forward_method"] >= 1


def test_tam_needs_hidden_states(toy):
    from xattr_lab.attr.synthetic import SyntheticModel

    model = SyntheticModel()
    with pytest.raises(ValueError, match="hidden_states"):
        xattr_lab.explain(model, model.image, "describe", method="tam", regions="grid:2")
