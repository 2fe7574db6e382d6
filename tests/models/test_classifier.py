import numpy as np
import pytest
import torch

from xattr_lab.models.classifier import ClassifierScoringModel
from xattr_lab.models.protocol import ScoringModel


class RedLeft(torch.nn.Module):
    """Logits: how red the left half is vs the right half (a known-answer classifier)."""

    def forward(self, x):
        red = x[:, 0] - x[:, 1:].mean(1)
        w = x.shape[-1] // 2
        return torch.stack([red[..., :w].mean((1, 2)), red[..., w:].mean((1, 2))], 1) * 20


@pytest.fixture
def clf():
    return ClassifierScoringModel(RedLeft(), ["left", "right"], name="redleft")


@pytest.fixture
def image():
    img = np.zeros((32, 32, 3), np.uint8)
    img[:, :16, 0] = 255
    return img


def test_generate_and_score(clf, image):
    assert isinstance(clf, ScoringModel) and "text" not in clf.capabilities
    gen = clf.generate(image, max_new_tokens=2)
    assert gen.generated_tokens == ("left", "right") and gen.text == "left right"
    masks = torch.ones(3, 32, 32)
    masks[1, :, :16] = 0
    masks[2, :, 16:] = 0
    before = clf.n_forward
    p = clf.score(gen, masks, positions=[0])
    assert p.shape == (3, 1) and clf.n_forward - before == 1
    assert p[1, 0] < 0.6 < p[0, 0] and p[2, 0] >= p[0, 0] - 1e-6


def test_with_target_and_gradients(clf, image):
    gen = clf.with_target(clf.generate(image), "right")
    assert gen.is_target and gen.generated_tokens == ("right",)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255).requires_grad_()
    clf.pixel_forward(gen, x).sum().backward()
    assert x.grad.abs().sum() > 0


def test_errors(clf, image):
    gen = clf.generate(image)
    with pytest.raises(NotImplementedError):
        clf.score_text(gen, ["x"])
    with pytest.raises(ValueError, match="target"):
        clf.with_target(gen, "middle")
    with pytest.raises(ValueError, match="masks"):
        clf.score(gen, torch.ones(1, 8, 8))
    with pytest.raises(ValueError, match="class_names"):
        ClassifierScoringModel(RedLeft(), [])
