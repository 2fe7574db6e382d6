import numpy as np
import pytest
import torch
from PIL import Image

from xattr_lab.models.images import as_rgb_array


@pytest.fixture(scope="module")
def setup(request):
    toy = request.getfixturevalue("toy")
    img = np.zeros((96, 96, 3), np.uint8)
    return toy, img, toy.generate(img, "how many shapes are there ?", 2)


@pytest.mark.parametrize(
    "image, exc, match",
    [
        (Image.new("L", (96, 96)), ValueError, "grayscale|mode 'L'"),
        (Image.new("RGBA", (96, 96)), ValueError, "RGBA"),
        (np.zeros((96, 96), np.uint8), ValueError, "grayscale"),
        (np.zeros((96, 96, 4), np.uint8), ValueError, "RGBA"),
        (np.zeros((3, 96, 96), np.uint8), ValueError, "channels last"),
        ([[0, 1]], TypeError, "PIL.Image"),
        ("cat.png", TypeError, "PIL.Image"),
        (np.full((96, 96, 3), 2.0), ValueError, r"\[0, 1\]"),
    ],
)
def test_bad_images(setup, image, exc, match):
    toy, _, _ = setup
    with pytest.raises(exc, match=match) as info:
        toy.generate(image, "what colour is the circle ?")
    assert "image" in str(info.value)


def test_image_conversions():
    assert as_rgb_array(Image.new("RGB", (5, 4))).shape == (4, 5, 3)
    assert as_rgb_array(torch.zeros(4, 5, 3, dtype=torch.uint8)).dtype == np.uint8
    assert as_rgb_array(np.ones((4, 5, 3)) * 0.5).max() == 128


@pytest.mark.parametrize("prompt, exc", [("", ValueError), ("   ", ValueError), (None, TypeError)])
def test_bad_prompt(setup, prompt, exc):
    toy, img, _ = setup
    with pytest.raises(exc, match="prompt"):
        toy.generate(img, prompt)


def test_bad_positions(setup):
    toy, _, gen = setup
    masks = torch.ones(1, 96, 96)
    with pytest.raises(ValueError, match="positions"):
        toy.score(gen, masks, positions=[gen.n_generated])
    with pytest.raises(ValueError, match="positions"):
        toy.score(gen, masks, positions=[])
    with pytest.raises(TypeError, match="positions"):
        toy.score(gen, masks, positions=[0.5])
    with pytest.raises(ValueError, match="positions"):
        toy.score_text(gen, ["how many shapes ?"], positions=[99])


def test_bad_masks_and_baseline(setup):
    toy, _, gen = setup
    with pytest.raises(ValueError, match=r"masks: expected shape \[B, 96, 96\]"):
        toy.score(gen, torch.ones(2, 48, 48))
    with pytest.raises(TypeError, match="masks"):
        toy.score(gen, [[1.0]])
    with pytest.raises(ValueError, match="baseline"):
        toy.score(gen, torch.ones(1, 96, 96), baseline="sky")


def test_bad_targets_and_variants(setup):
    toy, _, gen = setup
    with pytest.raises(ValueError, match="target"):
        toy.with_target(gen, "")
    with pytest.raises(TypeError, match="target"):
        toy.with_target(gen, 3.5)
    with pytest.raises(ValueError, match="target"):
        toy.with_target(gen, [10**9])
    with pytest.raises(TypeError, match="variants"):
        toy.score_text(gen, "one string")
    with pytest.raises(TypeError, match="gen"):
        toy.score("not a generation", torch.ones(1, 96, 96))


def test_load_model_errors(tmp_path):
    from xattr_lab.models.loading import load_model

    with pytest.raises(ValueError, match="never downloads"):
        load_model("no-such-org/no-such-model-xyz")
    with pytest.raises(TypeError, match="spec"):
        load_model(42)
    with pytest.raises(TypeError, match="spec"):
        load_model((torch.nn.Linear(2, 2), None))
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ValueError, match="spec"):
        load_model(str(tmp_path / "f.txt"))
