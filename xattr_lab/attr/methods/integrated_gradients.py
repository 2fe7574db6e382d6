"""Captum IntegratedGradients w.r.t. the processed pixels, from the explanation's baseline image."""

from __future__ import annotations

from typing import Any

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, gradient_output, unscored_output


def integrated_gradients(ctx: MethodContext, n_steps: int = 16, internal_batch_size: int | None = None) -> MethodOutput:
    """IntegratedGradients (Captum) of the target tokens' log-probability w.r.t. the processed pixels.

    Args:
        ctx: the method context.
        n_steps: Riemann / Gauss-Legendre steps along the path from the baseline image.
        internal_batch_size: images per backward pass (default: all ``n_steps`` at once).

    Returns:
        A signed pixel map (channels summed), carried back to the image's resolution; for tiles (LLaVA-NeXT,
        Idefics3) and Qwen's patch rows, through the processor's geometry, the tiles' attributions summed
        (the chain rule; :mod:`xattr_lab.models.pixel_geometry`), which keeps their total. After Ctrl-C, a
        partial map: the sum over the backward passes that finished, i.e. the integral along the path from
        the baseline up to the last finished step (Captum's steps run from the baseline towards the image),
        which does not add up to f(image) − f(baseline); ``n_steps_done`` says how far it got. With the
        default one pass there is nothing to keep and the region scores are NaN: pass a smaller
        ``internal_batch_size`` to keep finished passes.
    """
    from captum.attr import IntegratedGradients

    if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps: expected a positive int, got {n_steps!r}")
    if internal_batch_size is not None and (
        not isinstance(internal_batch_size, int) or isinstance(internal_batch_size, bool) or internal_batch_size < 1
    ):
        raise ValueError(f"internal_batch_size: expected a positive int or None, got {internal_batch_size!r}")

    class _KeepingPasses(IntegratedGradients):
        """Captum's IG, keeping the running sum of its internal passes so Ctrl-C keeps the finished ones."""

        done = 0
        total: Any = None

        def _attribute(self, *args: Any, **kwargs: Any) -> Any:
            out = super()._attribute(*args, **kwargs)
            self.total = out[0].detach() if self.total is None else self.total + out[0].detach()
            self.done += int(kwargs.get("n_steps", 0))
            return out

    forward = PixelForward(ctx)
    pixels, base = forward.inputs()
    params = {"n_steps": n_steps, "internal_batch_size": internal_batch_size}
    ig = _KeepingPasses(forward)
    try:
        attr = ig.attribute(pixels, baselines=base, n_steps=n_steps, internal_batch_size=internal_batch_size or n_steps)
    except KeyboardInterrupt:
        if ig.total is None:
            return unscored_output(ctx, params, {"n_forward_method": forward.n_images, "n_steps_done": 0})
        stats = {"n_steps_done": ig.done}
        partial = ig.done < n_steps
        return gradient_output(ctx, ig.total[0], "sum", params, forward.n_images, partial=partial, stats=stats)
    return gradient_output(ctx, attr[0], "sum", params, forward.n_images)


integrated_gradients.family = "baseline"  # type: ignore[attr-defined]
integrated_gradients.needs = ("gradients",)  # type: ignore[attr-defined]
