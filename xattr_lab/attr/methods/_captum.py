"""What the Captum wrappers share: forward functions over our models and the way back to a MethodOutput.

Every wrapper attributes the log-probability of the target tokens (summed over them), so the Captum
baselines explain the same quantity EAGLE's curves measure; with a contrast (``explain(..., contrast=)``)
that quantity is the margin ``Σ log p(target) − log p(contrast)``, read as the subset scorer reads it (see
:mod:`xattr_lab.scoring.contrast`). Perturbation methods see a keep-mask at the
image's resolution (1 = pixel kept, 0 = the explanation's baseline); gradient methods see the processed
pixels through the adapter's differentiable ``pixel_forward``.

Ctrl-C (KeyboardInterrupt) inside a wrapper returns a partial ``MethodOutput`` (``partial=True``) built
from what had been computed; every wrapper's docstring says what that is. Nothing is scored after the
interrupt: a partial result reads only the scorer's cache and the wrapper's own running sums.
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

    def __init__(self, ctx: MethodContext, cached_only: bool = False) -> None:
        labels = ctx.regions.labels.ravel()
        self.ctx = ctx
        self.cached_only = cached_only
        self.asked: list[int] = []  # every subset asked for, in order (what a partial result can reuse)
        # one pixel per region tells whether the region is kept
        self.probe = np.array([int(np.flatnonzero(labels == k)[0]) for k in range(ctx.regions.n)])

    def __call__(self, masks: Any) -> Any:
        import torch

        from xattr_lab.scoring.subsets import keep_to_bits

        keep = masks.detach().reshape(masks.shape[0], -1)[:, self.probe].cpu().numpy() > 0.5
        sets = [keep_to_bits(k) for k in keep]
        self.asked.extend(sets)
        return torch.from_numpy(self.log_probs(sets, cached_only=self.cached_only))

    def log_probs(self, sets: list[int], cached_only: bool = False) -> np.ndarray:
        """Summed log-probabilities of the target tokens per subset (NaN where not scored, if cached_only).

        With a contrast: the summed margins ``log p(target) − log p(contrast)``.
        """
        scorer = self.ctx.scorer
        if getattr(scorer, "contrast", None) is not None:
            return scorer.margins(sets, cached_only=cached_only).sum(axis=1)
        probs = scorer.probs(sets, cached_only=cached_only)
        return np.log(np.clip(probs, EPS, None)).sum(axis=1)

    def scored_prefix(self) -> int:
        """How many of the subsets asked for, from the first on, have been scored."""
        scorer = self.ctx.scorer
        for i, s in enumerate(self.asked):
            if not scorer.is_cached(s):
                return i
        return len(self.asked)


class PixelMaskForward:
    """Captum forward over arbitrary keep-masks [B, H, W] (not region-constant), through ``model.score``.

    It also keeps Occlusion's running sums (``base − f(mask)`` spread over the removed pixels, and how many
    windows removed each pixel), so an interrupted run still has the windows it finished.
    """

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.n_images = 0
        self.base: float | None = None  # f(all kept), the first image Captum's ablation scores
        self.diff_sum = np.zeros(ctx.regions.shape)
        self.removed = np.zeros(ctx.regions.shape)

    def __call__(self, masks: Any) -> Any:
        ctx = self.ctx
        masks = masks.detach().float()
        scorer = ctx.scorer
        if getattr(scorer, "contrast", None) is not None:
            import torch

            from xattr_lab.scoring.contrast import margin, pair_probs

            pair, per_image = pair_probs(
                ctx.model, ctx.generation, masks, list(ctx.positions), ctx.baseline, scorer.contrast,
                scorer._contrast_reads(),
            )  # fmt: skip
            t = len(ctx.positions)
            self.n_images += int(masks.shape[0]) * per_image
            out = torch.from_numpy(margin(pair[:, :t], pair[:, t:]).sum(axis=1))
            self._accumulate(masks, out)
            return out
        probs = ctx.model.score(ctx.generation, masks, list(ctx.positions), ctx.baseline)
        self.n_images += int(masks.shape[0])
        out = probs.double().clamp_min(EPS).log().sum(dim=1)
        self._accumulate(masks, out)
        return out

    def _accumulate(self, masks: Any, out: Any) -> None:
        removed = 1.0 - masks.reshape(masks.shape[0], *self.ctx.regions.shape).double().cpu().numpy()
        values = out.detach().cpu().numpy()
        if self.base is None:
            whole = np.flatnonzero(removed.reshape(len(removed), -1).max(axis=1) == 0)
            if not len(whole):
                return
            self.base = float(values[whole[0]])
        self.diff_sum += np.tensordot(self.base - values, removed, axes=1)
        self.removed += removed.sum(axis=0)

    def occlusion_map(self) -> np.ndarray:
        """Mean drop of the windows that removed each pixel so far (NaN where none has yet)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.removed > 0, self.diff_sum / self.removed, np.nan)


class PixelForward:
    """Differentiable forward over processed pixels, one example per image along Captum's dim 0.

    Captum sees ``[B, *processed]``: each example is the whole processed layout of one image (LLaVA's
    ``[1, 3, h, w]``, the tiles ``[1, T, 3, h, w]`` of NeXT / Idefics3, Qwen's patch rows ``[n, C·T·P·P]``),
    so IG's steps batch along the right axis (before, Qwen's patch rows were taken for examples and IG ran
    one forward per step). The forward stacks the B layouts the way ``model.pixel_forward`` reads them.
    """

    def __init__(self, ctx: MethodContext) -> None:
        from xattr_lab.models.whitebox import require

        require(ctx.model, "a gradient method", "pixel_forward", "processed_pixels")
        self.ctx = ctx
        self.n_images = 0
        self.reads: list[Any] = []
        contrast = getattr(ctx.scorer, "contrast", None)
        if contrast is not None:
            # pixel_forward reads only a generation's own tokens: the contrast comes from generations
            # carrying it (one more forward and backward per read)
            from xattr_lab.scoring.contrast import contrast_reads

            self.reads = contrast_reads(ctx.model, ctx.generation, ctx.positions, contrast, ctx.scorer.contrast_prefix)

    def __call__(self, pixels: Any) -> Any:
        ctx = self.ctx
        b = int(pixels.shape[0])
        self.n_images += b * (1 + len(self.reads))
        flat = pixels.reshape(b * pixels.shape[1], *pixels.shape[2:])
        probs = ctx.model.pixel_forward(ctx.generation, flat, list(ctx.positions))
        # log(p + eps), not log(clamp(p)): a clamp has zero gradient below eps and breaks IG completeness
        out = (probs.float() + EPS).log().sum(dim=1)
        for gen, read, _ in self.reads:
            out = out - (ctx.model.pixel_forward(gen, flat, read).float() + EPS).log().sum(dim=1)
        return out

    def inputs(self) -> tuple[Any, Any]:
        """The processed pixels and the processed baseline, each ``[1, *processed]``, as Captum inputs."""
        model, gen = self.ctx.model, self.ctx.generation
        pixels = model.processed_pixels(gen).detach()[None].requires_grad_(True)
        return pixels, model.processed_pixels(gen, baseline=self.ctx.baseline).detach()[None]


def image_gradient(ctx: MethodContext, values: Any) -> np.ndarray | None:
    """An attribution over one image's processed layout carried to the image, per channel: [C, H, W].

    Tiles and Qwen's patch rows go through ``model.pixel_geometry`` (tiles' gradients summed: the chain
    rule, see :mod:`xattr_lab.models.pixel_geometry`). None for a single ``[1, 3, h, w]`` image, which keeps
    the resize/crop mapping of ``to_image_map`` (callers reduce channels first).
    """
    geometry_of = getattr(ctx.model, "pixel_geometry", None)
    geometry = geometry_of(ctx.generation) if geometry_of is not None else None
    if geometry is None:
        return None
    arr = values.detach().double().cpu().numpy() if hasattr(values, "detach") else np.asarray(values, np.float64)
    tiles = geometry.tiles(arr)  # [n, C, h, w]
    return np.stack([geometry.to_image(tiles[:, c], mode="gradient") for c in range(tiles.shape[1])])


def gradient_output(
    ctx: MethodContext,
    values: Any,
    reduce: str,
    params: dict[str, Any],
    n_images: int,
    partial: bool = False,
    stats: dict[str, Any] | None = None,
) -> MethodOutput:
    """A pixel map from a gradient-type attribution over one image's processed layout.

    Args:
        ctx: the method context.
        values: the attribution, with the layout of ``processed_pixels`` (Captum's example 0).
        reduce: ``"sum"`` (channels summed: IG) or ``"absmax"`` (largest absolute channel: Saliency), taken
            after the tiles are combined, so a pixel seen by several tiles gets |Σ gradients|.
        params: the method's parameters.
        n_images: images the method's forwards ran.
        partial: whether the run was interrupted.
        stats: extra statistics.
    """
    if reduce not in ("sum", "absmax"):
        raise ValueError(f"reduce: expected 'sum' or 'absmax', got {reduce!r}")
    image = image_gradient(ctx, values)
    if image is None:
        tile = values.reshape(-1, *values.shape[-3:])[0]
        reduced = tile.sum(0) if reduce == "sum" else tile.abs().amax(0)
        return pixel_output(ctx, reduced, params, n_images, partial=partial, stats=stats)
    reduced = image.sum(0) if reduce == "sum" else np.abs(image).max(0)
    return pixel_output(ctx, reduced, params, n_images, processed=False, partial=partial, stats=stats)


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


def region_output(
    ctx: MethodContext, attr: Any, params: dict[str, Any], partial: bool = False, stats: dict[str, Any] | None = None
) -> MethodOutput:
    """Region scores from a region-constant attribution [1, H, W]."""
    scores = ctx.regions.pool(attr.detach().double().cpu().numpy()[0])
    return MethodOutput(region_scores=scores, params=params, partial=partial, stats=dict(stats or {}))


def unscored_output(ctx: MethodContext, params: dict[str, Any], stats: dict[str, Any] | None = None) -> MethodOutput:
    """Ctrl-C before anything usable was computed: NaN region scores (nothing known), marked partial."""
    n = ctx.regions.n
    return MethodOutput(
        order=np.arange(n, dtype=np.int64),
        region_scores=np.full(n, np.nan),
        partial=True,
        params=params,
        stats=dict(stats or {}),
    )


def scored_or_nan_output(
    ctx: MethodContext, scores: np.ndarray, params: dict[str, Any], stats: dict[str, Any]
) -> MethodOutput:
    """A partial answer with some region scores NaN: scored regions ranked first, the unscored after them."""
    from xattr_lab.scoring.orders import order_from_scores

    order = order_from_scores(scores)  # NaN ranks last, ties in index order
    return MethodOutput(order=order, region_scores=scores, partial=True, params=params, stats=stats)


def run_sampled(ctx: MethodContext, run: Any, n_samples: int, params: dict[str, Any]) -> MethodOutput:
    """Run Lime / Kernel SHAP (``run(forward, n)``) seeded, refitting on what was scored if Ctrl-C stops it."""
    forward = RegionForward(ctx)
    try:
        with seeded(ctx.seed):
            attr = run(forward, n_samples)
    except KeyboardInterrupt:
        return sampled_partial(ctx, forward, run, n_samples, params)
    return region_output(ctx, attr, params)


def sampled_partial(
    ctx: MethodContext, forward: RegionForward, run: Any, n_samples: int, params: dict[str, Any]
) -> MethodOutput:
    """Lime / Kernel SHAP after Ctrl-C: the surrogate refitted on the coalitions already scored.

    Captum draws the coalitions one after another from the seeded generator, whatever ``n_samples`` is, so
    the first ``k`` drawn with ``n_samples=k`` are the ``k`` scored before the interrupt. Refitting on them
    reads only the scorer's cache (no forward), and equals the method run with ``n_samples=k``.

    Args:
        ctx: the method context.
        forward: the interrupted run's forward (it knows which subsets were asked for).
        run: ``run(forward, n)`` runs the Captum method with ``n`` samples through ``forward``.
        n_samples: the samples asked for.
        params: the method's parameters.

    Returns:
        The refitted region scores (``partial`` unless every sample had been scored), or NaN scores when
        fewer than two coalitions had been scored.
    """
    k = min(forward.scored_prefix(), n_samples)
    stats = {"n_samples_scored": k}
    if k < 2:
        return unscored_output(ctx, params, stats)
    try:
        with seeded(ctx.seed):
            attr = run(RegionForward(ctx, cached_only=True), k)
    except ValueError:  # a coalition missing from the cache gives NaN, which the surrogate's fit refuses
        return unscored_output(ctx, params, stats)
    if not np.isfinite(attr.detach().double().cpu().numpy()).all():  # the same, where the fit let NaN through
        return unscored_output(ctx, params, stats)
    return region_output(ctx, attr, params, partial=k < n_samples, stats=stats)


def pixel_output(
    ctx: MethodContext,
    values: Any,
    params: dict[str, Any],
    n_images: int,
    processed: bool = True,
    partial: bool = False,
    stats: dict[str, Any] | None = None,
) -> MethodOutput:
    """A pixel map from an attribution over processed pixels (or image pixels when ``processed=False``)."""
    from xattr_lab.models.whitebox import to_image_map

    arr = values.detach().float().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
    pixel_map = to_image_map(ctx.model, ctx.generation, arr) if processed else arr
    return MethodOutput(
        pixel_map=pixel_map, params=params, partial=partial, stats={"n_forward_method": n_images, **(stats or {})}
    )
