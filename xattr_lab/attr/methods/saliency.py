"""Captum Saliency: the absolute gradient of the target tokens' log-probability w.r.t. the processed pixels."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, gradient_output, unscored_output


def saliency(ctx: MethodContext) -> MethodOutput:
    """Saliency (Captum): |∂ log p(targets) / ∂ pixels|, max over channels, at the image's resolution.

    For tiles (LLaVA-NeXT, Idefics3) and Qwen's patch rows, the gradients are carried to the image through
    the processor's geometry and summed over the tiles that see a pixel before the absolute value.

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
        # signed gradients: the tiles' gradients of one image pixel add up before the absolute value
        attr = Saliency(forward).attribute(pixels, abs=False)
    except KeyboardInterrupt:
        return unscored_output(ctx, {}, {"n_forward_method": forward.n_images})
    return gradient_output(ctx, attr[0], "absmax", {}, forward.n_images)


saliency.family = "baseline"  # type: ignore[attr-defined]
saliency.needs = ("gradients",)  # type: ignore[attr-defined]
