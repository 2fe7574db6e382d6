"""Captum IntegratedGradients w.r.t. the processed pixels, from the explanation's baseline image."""

from __future__ import annotations

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, pixel_output


def integrated_gradients(ctx: MethodContext, n_steps: int = 16, internal_batch_size: int | None = None) -> MethodOutput:
    """IntegratedGradients (Captum) of the target tokens' log-probability w.r.t. the processed pixels.

    Args:
        ctx: the method context.
        n_steps: Riemann / Gauss-Legendre steps along the path from the baseline image.
        internal_batch_size: images per backward pass (default: all ``n_steps`` at once).

    Returns:
        A signed pixel map (channels summed), carried back to the image's resolution.
    """
    from captum.attr import IntegratedGradients

    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps: expected a positive int, got {n_steps!r}")
    forward = PixelForward(ctx)
    pixels, base = forward.inputs()
    attr = IntegratedGradients(forward).attribute(
        pixels, baselines=base, n_steps=n_steps, internal_batch_size=internal_batch_size or n_steps
    )
    params = {"n_steps": n_steps, "internal_batch_size": internal_batch_size}
    return pixel_output(ctx, attr[0].sum(0), params, forward.n_images)


integrated_gradients.family = "baseline"  # type: ignore[attr-defined]
integrated_gradients.needs = ("gradients",)  # type: ignore[attr-defined]
