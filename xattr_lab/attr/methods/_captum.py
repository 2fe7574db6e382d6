"""What the Captum wrappers share: forward functions over our models and the way back to a MethodOutput.

Every wrapper attributes the log-probability of the target tokens (summed over them), so the Captum
baselines explain the same quantity EAGLE's curves measure. Perturbation methods see a keep-mask at the
image's resolution (1 = pixel kept, 0 = the explanation's baseline); gradient methods see the processed
pixels through the adapter's differentiable ``pixel_forward``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput

EPS = 1e-12


class RegionForward:
    """Captum forward over keep-masks [B, H, W] that are constant inside each region.

    The masks become region subsets scored by ``ctx.scorer``, so they are batched, memoised and counted
    with the curves (the shared unit: images scored).
    """

    def __init__(self, ctx: MethodContext) -> None:
        labels = ctx.regions.labels.ravel()
        self.ctx = ctx
        # one pixel per region tells whether the region is kept
        self.probe = np.array([int(np.flatnonzero(labels == k)[0]) for k in range(ctx.regions.n)])

    def __call__(self, masks: Any) -> Any:
        import torch

        from xattr_lab.scoring.subsets import keep_to_bits

        keep = masks.detach().reshape(masks.shape[0], -1)[:, self.probe].cpu().numpy() > 0.5
        probs = self.ctx.scorer.probs([keep_to_bits(k) for k in keep])
        return torch.from_numpy(np.log(np.clip(probs, EPS, None)).sum(axis=1))


class PixelMaskForward:
    """Captum forward over arbitrary keep-masks [B, H, W] (not region-constant), through ``model.score``."""

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.n_images = 0

    def __call__(self, masks: Any) -> Any:
        ctx = self.ctx
        self.n_images += int(masks.shape[0])
        probs = ctx.model.score(ctx.generation, masks.detach().float(), list(ctx.positions), ctx.baseline)
        return probs.double().clamp_min(EPS).log().sum(dim=1)


class PixelForward:
    """Differentiable forward over processed pixels [B, ...] (``model.pixel_forward``)."""

    def __init__(self, ctx: MethodContext) -> None:
        from xattr_lab.models.whitebox import require

        require(ctx.model, "a gradient method", "pixel_forward", "processed_pixels")
        self.ctx = ctx
        self.n_images = 0

    def __call__(self, pixels: Any) -> Any:
        ctx = self.ctx
        self.n_images += int(pixels.shape[0])
        probs = ctx.model.pixel_forward(ctx.generation, pixels, list(ctx.positions))
        # log(p + eps), not log(clamp(p)): a clamp has zero gradient below eps and breaks IG completeness
        return (probs.float() + EPS).log().sum(dim=1)

    def inputs(self) -> tuple[Any, Any]:
        """The processed pixels and the processed baseline, as Captum inputs."""
        model, gen = self.ctx.model, self.ctx.generation
        pixels = model.processed_pixels(gen).detach().requires_grad_(True)
        return pixels, model.processed_pixels(gen, baseline=self.ctx.baseline).detach()


def ones_mask(ctx: MethodContext) -> Any:
    """The all-kept mask [1, H, W] (the Captum input of perturbation methods)."""
    import torch

    return torch.ones((1, *ctx.regions.shape), dtype=torch.float32)


def feature_mask(ctx: MethodContext) -> Any:
    """The regions' label map [1, H, W] as Captum's ``feature_mask``."""
    import torch

    return torch.from_numpy(ctx.regions.labels.astype(np.int64))[None]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's generator for Captum's sampling without disturbing the caller's random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def region_output(ctx: MethodContext, attr: Any, params: dict[str, Any]) -> MethodOutput:
    """Region scores from a region-constant attribution [1, H, W]."""
    scores = ctx.regions.pool(attr.detach().double().cpu().numpy()[0])
    return MethodOutput(region_scores=scores, params=params)


def pixel_output(
    ctx: MethodContext, values: Any, params: dict[str, Any], n_images: int, processed: bool = True
) -> MethodOutput:
    """A pixel map from an attribution over processed pixels (or image pixels when ``processed=False``)."""
    from xattr_lab.models.whitebox import to_image_map

    arr = values.detach().float().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
    pixel_map = to_image_map(ctx.model, ctx.generation, arr) if processed else arr
    return MethodOutput(pixel_map=pixel_map, params=params, stats={"n_forward_method": n_images})
