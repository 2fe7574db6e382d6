"""White-box helpers built on an adapter's public surface: logit-lens readouts, map geometry, rescaled inputs.

These pieces serve the TAM / MSEA / ARC and Captum methods without touching the adapter's internals: they use
``hidden_states()``, ``generate()``, ``with_target()``, the wrapped ``model`` (its output embedding and vision
tower) and its ``processor``'s image geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from xattr_lab.models.protocol import Generation
    from xattr_lab.models.token_grid import TokenLayout


def require(model: Any, what: str, *attrs: str) -> None:
    """Raise a TypeError naming ``model`` when it lacks any of ``attrs`` (needed for ``what``)."""
    missing = [a for a in attrs if not hasattr(model, a)]
    if missing:
        raise TypeError(f"model: {what} needs a white-box model with {', '.join(missing)}")


@dataclass(frozen=True, eq=False)
class LensReadout:
    """Last-layer hidden states of one teacher-forced sequence, read through the unembedding (logit lens).

    Attributes:
        hidden: float [L, D] final hidden states over prompt + generated tokens.
        ids: int [L] the token ids of that sequence.
        n_input: number of input (prompt + image) tokens; generated token ``p`` sits at ``n_input + p``.
        image_positions: int [N_img] positions of the image tokens.
        grid: (rows, cols) of the image-token grid.
        weight: float [V, D] unembedding matrix (bias in ``bias`` or None).
        bias: float [V] or None.
        layout: for tiled models (LLaVA-NeXT, Idefics3 with image splitting), where every image token lies
            in the image (:class:`~xattr_lab.models.token_grid.TokenLayout`); None for one token grid.
            ``grid`` is then the first (base / global) view's shape.
    """

    hidden: torch.Tensor
    ids: torch.Tensor
    n_input: int
    image_positions: np.ndarray
    grid: tuple[int, int]
    weight: torch.Tensor
    bias: torch.Tensor | None
    layout: TokenLayout | None = None

    def logits(self, positions: Any, classes: Any = None) -> torch.Tensor:
        """Logits [P, C] at ``positions`` for ``classes`` (all V classes when None)."""
        import torch

        h = self.hidden[torch.as_tensor(np.asarray(positions, dtype=np.int64))]
        w = self.weight if classes is None else self.weight[torch.as_tensor(np.asarray(classes, dtype=np.int64))]
        out = h @ w.T
        if self.bias is not None:
            out = out + (self.bias if classes is None else self.bias[torch.as_tensor(np.asarray(classes))])
        return out

    def topk(self, positions: Any, k: int) -> np.ndarray:
        """The ids [P, k] of the ``k`` largest logits at each position (chunked over positions)."""
        positions = np.asarray(positions, dtype=np.int64)
        k = min(int(k), self.weight.shape[0])
        out = [
            self.logits(positions[i : i + 256]).topk(k, dim=-1).indices.numpy() for i in range(0, len(positions), 256)
        ]
        return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)


def lens_readout(model: Any, gen: Generation) -> LensReadout:
    """One forward with hidden states, packaged for logit-lens reads at any position and class.

    Tiled models (LLaVA-NeXT, Idefics3 with image splitting) get a ``layout`` placing every tile's tokens in
    the image (see :mod:`~xattr_lab.models.token_grid`).

    Raises:
        TypeError: when the model lacks ``hidden_states()`` or an output embedding.
        ValueError: when the image-token grid cannot be inferred.
    """
    import torch

    from xattr_lab.models.token_grid import token_layout

    require(model, "the logit lens", "hidden_states", "model")
    unembed = model.model.get_output_embeddings()
    states = model.hidden_states(gen)
    hidden = states[-1].detach().float().cpu()
    ids = torch.cat([gen.input_ids.cpu(), gen.generated_ids.cpu()])
    image_token = getattr(model, "image_token_id", None)
    if image_token is not None:
        where = (ids == image_token).nonzero().flatten().numpy()
    else:
        where = np.arange(*gen.image_token_span)
    # a tiled model's token count can happen to be a square: its layout is asked for first
    layout = token_layout(model, gen, where)
    grid = layout.views[0].shape if layout is not None else image_grid(gen, len(where))
    weight = unembed.weight.detach().float().cpu()
    bias = None if getattr(unembed, "bias", None) is None else unembed.bias.detach().float().cpu()
    return LensReadout(hidden, ids, int(gen.input_ids.shape[0]), where, grid, weight, bias, layout)


def image_grid(gen: Generation, n_tokens: int) -> tuple[int, int]:
    """The (rows, cols) grid of ``n_tokens`` image tokens, from the geometry or a square count."""
    grid = gen.geometry.get("grid")
    if grid and int(grid[0]) * int(grid[1]) == n_tokens:
        return int(grid[0]), int(grid[1])
    side = int(round(n_tokens**0.5))
    if side * side == n_tokens and n_tokens > 0:
        return side, side
    raise ValueError(f"model: cannot arrange {n_tokens} image tokens into a grid (geometry {gen.geometry})")


def _masker(model: Any, h: int, w: int) -> Any:
    from xattr_lab.models.masking import PixelSpaceMasker

    ip = getattr(getattr(model, "processor", None), "image_processor", None)
    return PixelSpaceMasker.for_processor(ip, h, w) if ip is not None else None


def resize_map(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``shape`` (float32)."""
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(np.asarray(values, dtype=np.float32))[None, None]
    if tuple(t.shape[-2:]) == tuple(shape):
        return t[0, 0].numpy()
    return F.interpolate(t, size=tuple(shape), mode="bilinear", align_corners=False)[0, 0].numpy()


def to_image_map(model: Any, gen: Generation, values: np.ndarray) -> np.ndarray:
    """A map over the processed image (token grid or processed pixels) carried back to the image: [H, W].

    For resize + centre-crop processors the map covers the crop; pixels cropped away get the map's minimum.
    Otherwise the map is taken to cover the whole image.
    """
    h, w = gen.image.shape[:2]
    values = np.asarray(values, dtype=np.float32)
    masker = _masker(model, h, w)
    if masker is None:
        return resize_map(values, (h, w))
    top, left, ch, cw = masker.crop
    canvas = np.full(masker.resized, values.min() if values.size else 0.0, dtype=np.float32)
    canvas[top : top + ch, left : left + cw] = resize_map(values, (ch, cw))
    return resize_map(canvas, (h, w))


def fixed_grid(model: Any, gen: Generation) -> bool:
    """Whether the model sees every input size through the same processed size (a fixed token grid)."""
    h, w = gen.image.shape[:2]
    a, b = _masker(model, h, w), _masker(model, 2 * h, 2 * w)
    return a is not None and b is not None and a.shape == b.shape


def regenerate(model: Any, gen: Generation, image: np.ndarray) -> Generation:
    """A generation for another image with ``gen``'s prompt and generated tokens teacher-forced."""
    fresh = model.generate(image, gen.prompt, max_new_tokens=1)
    return model.with_target(fresh, gen.generated_ids.tolist())


def vision_conv(model: Any) -> torch.nn.Module:
    """The vision tower's patch-embedding convolution (the one spatial [B, C, h, w] layer of a ViT).

    Raises:
        TypeError: when the model has no vision tower with a 2-D convolution.
    """
    import torch

    require(model, "LayerGradCam", "model")
    inner = getattr(model.model, "model", model.model)
    tower = getattr(inner, "vision_tower", None) or getattr(model.model, "vision_tower", None)
    if tower is None:
        tower = getattr(inner, "visual", None)
    for module in tower.modules() if tower is not None else ():
        if isinstance(module, torch.nn.Conv2d):
            return module
    raise TypeError("model: LayerGradCam needs a vision tower with a Conv2d patch embedding")
