"""Captum LayerGradCam on the vision tower's patch-embedding convolution."""

from __future__ import annotations

from contextlib import nullcontext

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, pixel_output, unscored_output


def layer_gradcam(ctx: MethodContext, relu: bool = True) -> MethodOutput:
    """LayerGradCam (Captum) of the target tokens' log-probability at the vision tower's patch grid.

    ViTs have one spatial layer, the patch embedding ([B, C, h, w]); its Grad-CAM is upsampled from the
    patch grid to the image.

    Args:
        ctx: the method context.
        relu: keep only positive evidence (Grad-CAM's ReLU).

    Returns:
        A pixel map at the image's resolution. One forward and backward pass: after Ctrl-C nothing is kept,
        the result is partial with NaN region scores (Captum's layer hook is removed either way).
    """
    from captum.attr import LayerGradCam

    from xattr_lab.models.whitebox import vision_conv

    forward = PixelForward(ctx)
    pixels, _ = forward.inputs()
    params = {"relu": bool(relu)}
    # Captum's hook sits on the model's shared vision conv: hold the model's lock (when it has one) from the
    # hook's installation to its removal, so that forwards of other threads never pass through it
    lock = getattr(ctx.model, "lock", None) or nullcontext()
    try:
        with lock:
            cam = LayerGradCam(forward, vision_conv(ctx.model)).attribute(pixels, relu_attributions=bool(relu))
    except KeyboardInterrupt:
        return unscored_output(ctx, params, {"n_forward_method": forward.n_images})
    return pixel_output(ctx, cam[0, 0], params, forward.n_images)


layer_gradcam.family = "baseline"  # type: ignore[attr-defined]
layer_gradcam.needs = ("gradients",)  # type: ignore[attr-defined]
