"""Captum Saliency: the absolute gradient of the target tokens' log-probability w.r.t. the processed pixels."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, pixel_output


def saliency(ctx: MethodContext) -> MethodOutput:
    """Saliency (Captum): |∂ log p(targets) / ∂ pixels|, max over channels, at the image's resolution.

    Args:
        ctx: the method context.

    Returns:
        A non-negative pixel map.
    """
    from captum.attr import Saliency

    forward = PixelForward(ctx)
    pixels, _ = forward.inputs()
    attr = Saliency(forward).attribute(pixels, abs=True)
    return pixel_output(ctx, attr[0].amax(0), {}, forward.n_images)


saliency.family = "baseline"  # type: ignore[attr-defined]
saliency.needs = ("gradients",)  # type: ignore[attr-defined]
