"""Captum Saliency: the absolute gradient of the target tokens' log-probability w.r.t. the processed pixels."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, pixel_output, unscored_output


def saliency(ctx: MethodContext) -> MethodOutput:
    """Saliency (Captum): |∂ log p(targets) / ∂ pixels|, max over channels, at the image's resolution.

    Args:
        ctx: the method context.

    Returns:
        A non-negative pixel map. One forward and backward pass: after Ctrl-C nothing is kept, the result is
        partial with NaN region scores.
    """
    from captum.attr import Saliency

    forward = PixelForward(ctx)
    pixels, _ = forward.inputs()
    try:
        attr = Saliency(forward).attribute(pixels, abs=True)
    except KeyboardInterrupt:
        return unscored_output(ctx, {}, {"n_forward_method": forward.n_images})
    return pixel_output(ctx, attr[0].amax(0), {}, forward.n_images)


saliency.family = "baseline"  # type: ignore[attr-defined]
saliency.needs = ("gradients",)  # type: ignore[attr-defined]
