"""LayerGradCam on the vision tower's patch embedding (Conv2d, or Qwen's Conv3d), for every family.

A ViT has one spatial layer, its patch embedding. For one ``[1, 3, h, w]`` image (LLaVA-1.5) this is
Captum's LayerGradCam, upsampled from the patch grid to the image. Tiled and patchified inputs have no single
``[B, C, h, w]`` feature map, so Grad-CAM is computed here from the layer's activations and gradients:

- LLaVA-NeXT / Idefics3: the Conv2d runs over the tiles ``[T, C, gh, gw]``;
- Qwen2-VL / 2.5-VL: the Conv3d runs over the patch rows ``[n, C, 1, 1, 1]``, placed back on the patch
  grid through the processor's merge order.

``pool="image"`` (default) weighs the channels by their gradient averaged over the whole image's feature
map, every tile or patch (Grad-CAM's global average pooling); ``pool="tile"`` averages within each tile, as
Captum does when the tiles are given as a batch (for Qwen's rows, each patch alone: ReLU of gradient ×
activation). Each tile's map is carried to its place in the image and the tiles covering a pixel averaged
(:mod:`xattr_lab.models.pixel_geometry`).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from xattr_lab.attr.context import MethodContext, MethodOutput
from xattr_lab.attr.methods._captum import PixelForward, pixel_output, unscored_output

POOLS = ("image", "tile")


def patch_embedding(model: Any) -> Any:
    """The vision tower's patch-embedding convolution: a Conv2d, or Qwen's Conv3d.

    Looks in ``vision_tower`` (LLaVA), ``vision_model`` (Idefics3: ``vision_model.embeddings.patch_embedding``)
    and ``visual`` (Qwen: ``visual.patch_embed.proj``).

    Raises:
        TypeError: when the model has no vision tower with such a convolution.
    """
    import torch

    from xattr_lab.models.whitebox import require

    require(model, "LayerGradCam", "model")
    root = model.model
    inner = getattr(root, "model", root)
    for owner in (inner, root):
        for name in ("vision_tower", "vision_model", "visual"):
            tower = getattr(owner, name, None)
            if isinstance(tower, torch.nn.Module):
                for module in tower.modules():
                    if isinstance(module, (torch.nn.Conv2d, torch.nn.Conv3d)):
                        return module
    raise TypeError(
        "model: LayerGradCam needs a vision tower (vision_tower, vision_model or visual) with a Conv2d or "
        "Conv3d patch embedding"
    )


def layer_gradcam(ctx: MethodContext, relu: bool = True, pool: str = "image") -> MethodOutput:
    """LayerGradCam of the target tokens' log-probability at the vision tower's patch grid.

    Args:
        ctx: the method context.
        relu: keep only positive evidence (Grad-CAM's ReLU).
        pool: where the channel weights are averaged for tiled / patchified inputs: ``"image"`` (the whole
            image's feature map) or ``"tile"`` (each tile, Captum's behaviour on a batch of tiles). One
            image ``[1, 3, h, w]`` has one tile: both are Captum's LayerGradCam.

    Returns:
        A pixel map at the image's resolution. One forward and backward pass: after Ctrl-C nothing is kept,
        the result is partial with NaN region scores (the layer hook is removed either way).
    """
    if pool not in POOLS:
        raise ValueError(f"pool: expected one of {POOLS}, got {pool!r}")
    conv = patch_embedding(ctx.model)
    forward = PixelForward(ctx)
    geometry_of = getattr(ctx.model, "pixel_geometry", None)
    geometry = geometry_of(ctx.generation) if geometry_of is not None else None
    pixels, _ = forward.inputs()
    params = {"relu": bool(relu), "pool": pool}
    # the hook sits on the model's shared vision conv: hold the model's lock (when it has one) from the
    # hook's installation to its removal, so that forwards of other threads never pass through it
    lock = getattr(ctx.model, "lock", None) or nullcontext()
    try:
        with lock:
            if geometry is None:
                from captum.attr import LayerGradCam

                cam = LayerGradCam(forward, conv).attribute(pixels, relu_attributions=bool(relu))
                return pixel_output(ctx, cam[0, 0], params, forward.n_images)
            acts, grads = _activations_and_gradients(forward, conv, pixels)
    except KeyboardInterrupt:
        return unscored_output(ctx, params, {"n_forward_method": forward.n_images})
    cams = _cams(acts, grads, relu, pool)  # [n, *spatial]
    if geometry.qwen is not None:
        _, _, merge, grid = geometry.qwen
        from xattr_lab.models.pixel_geometry import patch_order

        flat = np.zeros(int(np.prod(grid)))
        flat[patch_order(grid, merge)] = cams.reshape(len(cams))
        tile_maps = flat.reshape(grid).mean(0, keepdims=True)  # a still image's frames: one map
    else:
        tile_maps = cams
    if tile_maps.shape[0] != len(geometry.boxes):
        raise ValueError(
            f"model: the patch embedding ran over {tile_maps.shape[0]} tiles, the processor made "
            f"{len(geometry.boxes)} (an all-zero tile is dropped by Idefics3's vision model)"
        )
    pixel_map = geometry.to_image(tile_maps, mode="map")
    return MethodOutput(pixel_map=pixel_map, params=params, stats={"n_forward_method": forward.n_images})


def _activations_and_gradients(forward: PixelForward, conv: Any, pixels: Any) -> tuple[Any, Any]:
    """The convolution's output over one image and the gradient of the forward's output w.r.t. it."""
    import torch

    store: dict[str, Any] = {}

    def hook(module: Any, args: Any, output: Any) -> None:
        store["acts"] = output

    handle = conv.register_forward_hook(hook)
    try:
        out = forward(pixels)
    finally:
        handle.remove()
    acts = store["acts"]
    (grads,) = torch.autograd.grad(out.sum(), acts)
    return acts.detach(), grads.detach()


def _cams(acts: Any, grads: Any, relu: bool, pool: str) -> np.ndarray:
    """Grad-CAM ``[n, *spatial]`` from activations and gradients ``[n, E, *spatial]``."""
    acts, grads = acts.double(), grads.double()
    channel = 1
    if pool == "image":
        dims = [d for d in range(grads.ndim) if d != channel]
        alpha = grads.mean(dim=dims, keepdim=True)
    else:
        alpha = grads.mean(dim=list(range(2, grads.ndim)), keepdim=True)
    cam = (alpha * acts).sum(dim=channel)
    if relu:
        cam = cam.clamp_min(0.0)
    return cam.cpu().numpy()


layer_gradcam.family = "baseline"  # type: ignore[attr-defined]
layer_gradcam.needs = ("gradients",)  # type: ignore[attr-defined]
