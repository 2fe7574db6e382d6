"""Captum Occlusion: slide a baseline-filled window over the image and watch the target tokens."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelMaskForward, ones_mask, pixel_output


def occlusion(ctx: MethodContext, window: int | None = None, stride: int | None = None) -> MethodOutput:
    """Occlusion (Captum) over the keep-mask at the image's resolution.

    Args:
        ctx: the method context.
        window: side of the square occluding window in pixels (default: an eighth of the shorter side).
        stride: step of the window (default: half the window).

    Returns:
        The drop in the target tokens' log-probability per pixel. After Ctrl-C, the same mean drop over the
        windows scored so far (NaN on pixels no finished window covered), from running sums kept while
        scoring.
    """
    from captum.attr import Occlusion

    h, w = ctx.regions.shape
    window = window or max(1, min(h, w) // 8)
    stride = stride or max(1, window // 2)
    for name, value in (("window", window), ("stride", stride)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    forward = PixelMaskForward(ctx)
    params = {"window": window, "stride": stride}
    try:
        attr = Occlusion(forward).attribute(
            ones_mask(ctx), sliding_window_shapes=(window, window), strides=(stride, stride),
            baselines=0.0, perturbations_per_eval=64,
        )  # fmt: skip
    except KeyboardInterrupt:
        return pixel_output(ctx, forward.occlusion_map(), params, forward.n_images, processed=False, partial=True)
    return pixel_output(ctx, attr[0], params, forward.n_images, processed=False)


occlusion.family = "baseline"  # type: ignore[attr-defined]
occlusion.needs = ("scores",)  # type: ignore[attr-defined]
