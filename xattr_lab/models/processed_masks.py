"""Masking every family in processed space: the processor's geometry traced once, replayed on torch tensors.

Mask-then-process runs the image processor once per masked image (PIL conversion, resampling, numpy
normalisation, tokenisation), which is most of the time a masked forward costs on the small families. This
module records, once per image, what the processor does to each pixel and replays exactly that on a batch of
masked images in torch:

* **Tracing.** The image processor is called once on a *code image* (each pixel's value is its index) with
  rescale and normalisation off. Every PIL resize it makes is intercepted and recorded as an operation
  (input codes, output size, filter) that returns fresh codes, so whatever the processor does around the
  resizes (LLaVA's centre crop, LLaVA-NeXT's base image and padded any-res tiles, Idefics3's crops and global
  image, Qwen2-VL's smart resize, temporal copies and patch rows) is captured as an index map from the
  output ``pixel_values`` back to resize outputs (code 0: padding).
* **Replay.** For a batch of masks: composite ``mask·image + (1 - mask)·baseline`` at full resolution with
  the arithmetic of :func:`~xattr_lab.models.masking.mask_images` (float32, rounded to 8 bits), run each
  recorded resize with PIL's own 8-bit fixed-point coefficients (22 bits, horizontal pass then vertical,
  each rounded and clamped to 0..255 as PIL does), gather the output layout, then rescale and normalise.

Why not composite the processed image and baseline under a resized mask: resampling does not commute with
the per-pixel product, so that differs from mask-then-process at every mask edge (by up to 1.1 normalised
units on the tiny families). The replay does the same arithmetic as the processor, so it matches it to the
last 8-bit level (see :func:`replay_error`); it is checked once per image and refused otherwise.

Only processors that resize through transformers' PIL backend are traced (``*ImageProcessorPil``); others
(torchvision "fast" processors) fall back, with the reason recorded.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

PRECISION_BITS = 22  # Pillow's fixed-point precision for 8-bit resampling (32 - 8 - 2)
_MAX_CODES = 1 << 24  # codes must survive a float32 cast inside the processor

_TRACE = threading.local()
_PATCH_LOCK = threading.Lock()


class TraceError(RuntimeError):
    """The processor did something the tracer cannot replay (the message says what)."""


def _bicubic(x: np.ndarray) -> np.ndarray:
    a, x = -0.5, np.abs(x)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1, np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _sinc(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0, 1.0, np.sin(x * np.pi) / (x * np.pi))


def _hamming(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.sin(x * np.pi) / (x * np.pi) * (0.54 + 0.46 * np.cos(x * np.pi))
    return np.where(x == 0, 1.0, np.where(x >= 1, 0.0, v))


# Pillow's filters (Resample.c) by resample id: (support, function)
_FILTERS = {
    1: (3.0, lambda x: np.where((x >= -3) & (x < 3), _sinc(x) * _sinc(x / 3), 0.0)),  # LANCZOS
    2: (1.0, lambda x: np.maximum(1 - np.abs(x), 0.0)),  # BILINEAR
    3: (2.0, _bicubic),  # BICUBIC
    4: (0.5, lambda x: ((x > -0.5) & (x <= 0.5)).astype(np.float64)),  # BOX
    5: (1.0, _hamming),  # HAMMING
}


@lru_cache(maxsize=128)
def pil_coefficients(n_in: int, n_out: int, resample: int) -> np.ndarray:
    """Pillow's 8-bit resampling weights ``[n_out, n_in]`` as integers (scaled by ``2**PRECISION_BITS``).

    Pillow's ``precompute_coeffs`` in double precision (each output's window, its filter taps normalised to
    sum 1), then quantised as its ``normalize_coeffs_8bpc`` does (round half away from zero). Filters it
    does not resample with (nearest) are read from Pillow itself: a float image holding the identity,
    resized along one axis (0/1 weights, exact in float32).
    """
    if int(resample) not in _FILTERS:
        from PIL import Image

        probe = Image.fromarray(np.eye(n_in, dtype=np.float32))
        k = np.asarray(probe.resize((n_out, n_in), resample=int(resample)), dtype=np.float64).T
    else:
        support, fn = _FILTERS[int(resample)]
        scale = n_in / n_out
        filterscale = max(scale, 1.0)
        support *= filterscale
        k = np.zeros((n_out, n_in))
        for j in range(n_out):
            center = (j + 0.5) * scale
            lo = max(int(center - support + 0.5), 0)  # C's (int) truncates; negatives are clamped anyway
            hi = min(int(center + support + 0.5), n_in)
            w = fn((np.arange(lo, hi) - center + 0.5) / filterscale)
            total = w.sum()
            k[j, lo:hi] = w / total if total != 0 else w
    scaled = k * float(1 << PRECISION_BITS)
    return np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5))


def _round(acc: torch.Tensor) -> torch.Tensor:
    """Pillow's 8-bit result of a pass: round half up, clamp to 0..255 (in place)."""
    return acc.add_(0.5).floor_().clamp_(0, 255)


def _times(k: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``rows @ k.T`` for ``rows`` [N, n_in] (``k`` dense or sparse CSR [n_out, n_in]) -> [N, n_out]."""
    return (k @ rows.T).T if k.layout == torch.sparse_csr else rows @ k.T


def _resize(x: torch.Tensor, kx: torch.Tensor | None, ky: torch.Tensor | None) -> torch.Tensor:
    """Pillow's 8-bit resize of ``x`` [B, C, h, w]: the horizontal pass, then the vertical one, each rounded.

    ``kx``/``ky`` hold Pillow's integer weights divided by ``2**22`` (dense on short axes, sparse CSR on long
    ones; None: that size is unchanged). float64 keeps every sum of 8-bit values times weights exact. Every
    pass is one 2-D product whose contracted axis is contiguous (batched or transposed copies of float64 run
    several times slower on CPUs): the horizontal pass writes its output transposed, width first, so the
    vertical pass reads rows of height directly. Returns float32 (exact for 8-bit values).
    """
    b, c, h, w = x.shape
    if kx is not None and ky is not None:
        # [w_out, B·C·h]: k @ x^T, without copying x
        t = _round(kx @ x.double().reshape(-1, w).T)
        w_out = t.shape[0]
        out = _round(_times(ky, t.reshape(w_out * b * c, h)))  # [(w_out, B, C), h_out]
        return out.reshape(w_out, b, c, -1).permute(1, 2, 3, 0).float().contiguous()
    if kx is not None:
        return _round(_times(kx, x.double().reshape(-1, w))).reshape(b, c, h, -1).float()
    if ky is not None:
        rows = x.transpose(-1, -2).double().reshape(-1, h)
        return _round(_times(ky, rows)).reshape(b, c, w, -1).transpose(-1, -2).float().contiguous()
    return x


def _weights(n_in: int, n_out: int, resample: int) -> torch.Tensor | None:
    if n_in == n_out:
        return None  # Pillow skips a pass whose size is unchanged
    k = torch.from_numpy(pil_coefficients(n_in, n_out, resample) / float(1 << PRECISION_BITS))
    if n_in <= _DENSE_UP_TO:
        return k
    with warnings.catch_warnings():  # "sparse CSR support is in beta": matmul with a dense matrix is all we use
        warnings.simplefilter("ignore", UserWarning)
        return k.to_sparse_csr()


_WORK_BYTES = 128 << 20  # working memory of one replay call; more masks are replayed in turns
_DENSE_UP_TO = 256  # beyond this input length a sparse matrix wins (a dense one does n_in work per output)


@dataclass(frozen=True)
class _Source:
    """Where an operation reads its values.

    One node (``index`` None: all of it, in order; else indices into it, behind a zero column when ``padded``
    so that padding, code 0, reads 0), or with ``node`` -1 every node so far behind a zero column (``index``
    holds the codes themselves: Idefics3's crops and global image in one output).
    """

    node: int
    index: torch.Tensor | None
    padded: bool


def _source(codes: np.ndarray, starts: list[int], sizes: list[int]) -> _Source:
    flat = codes.ravel()
    real = flat[flat > 0]
    if real.size == 0:
        raise TraceError("an output holds no image pixel")
    node = int(np.searchsorted(np.asarray(starts), real.min() - 1, side="right") - 1)
    lo, hi = starts[node], starts[node] + sizes[node]
    if real.min() <= lo or real.max() > hi:
        return _Source(-1, torch.from_numpy(flat), True)
    padded = bool((flat == 0).any())
    rel = np.where(flat > 0, flat - lo, 0)
    if not padded and rel.size == sizes[node] and np.array_equal(rel, np.arange(1, sizes[node] + 1)):
        return _Source(node, None, False)
    return _Source(node, torch.from_numpy(rel if padded else rel - 1), padded)


def _read(nodes: list[torch.Tensor], src: _Source) -> torch.Tensor:
    if src.node < 0:
        b = nodes[0].shape[0]
        return torch.cat([nodes[0].new_zeros(b, 1), *[n.reshape(b, -1) for n in nodes]], 1).index_select(1, src.index)
    x = nodes[src.node].reshape(nodes[src.node].shape[0], -1)
    if src.index is None:
        return x
    if src.padded:
        x = torch.cat([x.new_zeros(x.shape[0], 1), x], 1)
    return x.index_select(1, src.index)


@dataclass(frozen=True)
class _Resize:
    source: _Source
    shape_in: tuple[int, int, int]
    kx: torch.Tensor | None  # integer weights [w_out, w_in] (dense or sparse CSR), None when the width is kept
    ky: torch.Tensor | None


@dataclass(frozen=True)
class ProcessedMasker:
    """The traced geometry of one image's processing, replayed on batches of masked images.

    Attributes:
        image: the image [3, H, W] as float32 (the composite's operand).
        ops: the recorded resizes, in call order (node ``i + 1`` is the output of ``ops[i]``).
        out: where each element of ``pixel_values`` (flattened) is read.
        scale: [N] rescale/std per element (its channel's; 0 on padding).
        shift: [N] -mean/std per element (the processed value on padding).
        shape: the ``pixel_values`` shape of one image.
        family: a short name of the traced layout (for provenance).
        bytes_per_mask: working memory of one masked image (full-resolution composite, float64 passes).
    """

    image: torch.Tensor
    ops: tuple[_Resize, ...]
    out: _Source
    scale: torch.Tensor
    shift: torch.Tensor
    shape: tuple[int, ...]
    family: str
    bytes_per_mask: int = 0

    def to(self, device: torch.device) -> ProcessedMasker:
        """A copy with every tensor on ``device``."""

        def mv(t: Any) -> Any:
            if isinstance(t, _Source):
                return _Source(t.node, mv(t.index), t.padded)
            return None if t is None else t.to(device)

        ops = tuple(_Resize(mv(o.source), o.shape_in, mv(o.kx), mv(o.ky)) for o in self.ops)
        return ProcessedMasker(mv(self.image), ops, mv(self.out), mv(self.scale), mv(self.shift), self.shape,
                               self.family, self.bytes_per_mask)  # fmt: skip

    def apply(self, masks: torch.Tensor, baseline: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``pixel_values`` of the masked images, as the processor would give them, batched on dim 0.

        Args:
            masks: [B, H, W] in [0, 1] at the image's resolution (1 keeps a pixel).
            baseline: [H, W, 3] in 0..255 (see :func:`~xattr_lab.models.masking.baseline_image`).

        Returns:
            float32 [B·shape[0], *shape[1:]] (e.g. [B, 3, h, w] for LLaVA 1.5, [B·n_patches, C·T·P·P] for Qwen).
        """
        b = masks.shape[0]
        step = max(1, _WORK_BYTES // max(1, self.bytes_per_mask))
        if b > step:  # large images: a few masks at a time, so the full-resolution work stays bounded
            return torch.cat([self.apply(masks[i : i + step], baseline) for i in range(0, b, step)])
        dev = self.image.device
        base = torch.as_tensor(np.ascontiguousarray(baseline), dtype=torch.float32, device=dev).permute(2, 0, 1)
        m = masks.to(dev, torch.float32)[:, None]
        # the arithmetic of mask_images (channels first here), so the 8-bit composite is the same pixel for pixel
        comp = (m * self.image + (1 - m) * base).round_().clamp_(0, 255)
        nodes = [comp]
        for op in self.ops:
            nodes.append(_resize(_read(nodes, op.source).view(b, *op.shape_in), op.kx, op.ky))
        out = torch.addcmul(self.shift, _read(nodes, self.out), self.scale)
        return out.reshape(b * self.shape[0], *self.shape[1:])


class _Tracer:
    """State of one trace: the codes handed out and the resizes seen."""

    def __init__(self, n_image: int) -> None:
        self.n_codes = n_image
        self.ops: list[dict[str, Any]] = []

    def resize(
        self,
        image: Any,
        size: Any,
        resample: Any = None,
        reducing_gap: Any = None,
        data_format: Any = None,
        return_numpy: bool = True,
        input_data_format: Any = None,
    ) -> np.ndarray:
        """Stands in for ``transformers.image_transforms.resize``: records the call, returns fresh codes."""
        from transformers.image_utils import ChannelDimension, PILImageResampling

        first = ChannelDimension.FIRST
        if reducing_gap is not None or not return_numpy:
            raise TraceError("the processor resizes with a reducing gap or to a PIL image")
        if ChannelDimension(input_data_format or first) != first or ChannelDimension(data_format or first) != first:
            raise TraceError("the processor resizes channels-last images")
        arr = np.asarray(image)
        codes = np.rint(arr).astype(np.int64)
        if arr.ndim != 3 or not np.array_equal(codes, arr) or codes.min() < 0 or codes.max() > self.n_codes:
            raise TraceError("a resize received values that are not pixel codes (the processor changed them)")
        c, h_out, w_out = arr.shape[0], int(size[0]), int(size[1])
        resample = int(resample if resample is not None else PILImageResampling.BILINEAR)
        self.ops.append(dict(offset=self.n_codes, codes=codes, out=(c, h_out, w_out), resample=resample))
        out = self.n_codes + 1 + np.arange(c * h_out * w_out, dtype=np.int64).reshape(c, h_out, w_out)
        self.n_codes += c * h_out * w_out
        if self.n_codes >= _MAX_CODES:
            raise TraceError(f"the processed image has too many intermediate pixels to trace (>= {_MAX_CODES})")
        return out.astype(np.float64)


def _trace(image_processor: Any, height: int, width: int) -> tuple[_Tracer, dict[str, Any]]:
    """Run the image processor once on a code image, recording its resizes."""
    import transformers.image_processing_backends as backends

    if not isinstance(image_processor, backends.PilBackend):
        raise TraceError(
            f"{type(image_processor).__name__} does not resize through transformers' PIL backend "
            "(only *ImageProcessorPil processors are traced)"
        )
    n_image = 3 * height * width
    tracer = _Tracer(n_image)
    codes = (1 + np.arange(n_image, dtype=np.int64)).reshape(3, height, width).astype(np.float64)
    with _PATCH_LOCK:
        original = backends.np_resize

        def resize(*args: Any, **kwargs: Any) -> Any:
            active = getattr(_TRACE, "tracer", None)
            return active.resize(*args, **kwargs) if active is not None else original(*args, **kwargs)

        backends.np_resize = resize  # other threads pass through: the tracer is thread-local
        _TRACE.tracer = tracer
        try:
            out = image_processor(
                images=[codes], input_data_format="channels_first", do_convert_rgb=False, do_rescale=False,
                do_normalize=False, return_tensors="np",
            )  # fmt: skip
        except TraceError:
            raise
        except Exception as err:  # a processor that refuses code images cannot be traced
            raise TraceError(f"the processor refused the code image ({type(err).__name__}: {err})") from err
        finally:
            _TRACE.tracer = None
            backends.np_resize = original
    return tracer, dict(out)


def _per_channel(value: Any, n: int = 3) -> np.ndarray:
    arr = np.asarray(value if value is not None else 0.0, dtype=np.float64).ravel()
    return np.broadcast_to(arr, (n,)) if arr.size == 1 else arr


def build(
    image_processor: Any, image: np.ndarray, pixel_values: torch.Tensor, family: str = ""
) -> ProcessedMasker:
    """Trace ``image_processor`` on an image's size and build the replay for it.

    Args:
        image_processor: the processor's image processor.
        image: the uint8 image [H, W, 3].
        pixel_values: the processor's real output for ``image`` (its layout and padding values are kept).
        family: a label for provenance.

    Raises:
        TraceError: when the processor cannot be traced (the message says why).
    """
    h, w = image.shape[:2]
    tracer, out = _trace(image_processor, h, w)
    traced = np.asarray(out.get("pixel_values"))
    if traced.dtype == object or tuple(traced.shape) != tuple(pixel_values.shape):
        raise TraceError(
            f"the traced layout {getattr(traced, 'shape', None)} differs from the processor's "
            f"{tuple(pixel_values.shape)}"
        )
    out_codes = np.rint(traced).astype(np.int64)
    if not np.array_equal(out_codes, traced) or out_codes.min() < 0 or out_codes.max() > tracer.n_codes:
        raise TraceError("the processor's output is not a rearrangement of resized pixels")
    # the channel of each code: its node's (c, h, w) layout
    starts = [0] + [op["offset"] for op in tracer.ops]
    shapes = [(3, h, w)] + [op["out"] for op in tracer.ops]
    sizes = [c * hh * ww for c, hh, ww in shapes]
    channel = np.zeros(tracer.n_codes + 1, dtype=np.int64)
    for start, (c, hh, ww) in zip(starts, shapes):
        channel[start + 1 : start + 1 + c * hh * ww] = np.repeat(np.arange(c), hh * ww)
    ip = image_processor
    rescale = float(getattr(ip, "rescale_factor", 1 / 255)) if getattr(ip, "do_rescale", True) else 1.0
    mean = _per_channel(getattr(ip, "image_mean", 0.0)) if getattr(ip, "do_normalize", True) else np.zeros(3)
    std = _per_channel(getattr(ip, "image_std", 1.0)) if getattr(ip, "do_normalize", True) else np.ones(3)
    flat = out_codes.ravel()
    ch = channel[flat]
    pad = torch.from_numpy(flat == 0)
    real_pv = pixel_values.detach().reshape(-1).cpu().float()
    ops = []
    for op in tracer.ops:
        c, h_in, w_in = op["codes"].shape
        _, h_out, w_out = op["out"]
        src = _source(op["codes"], starts, sizes)
        kx, ky = _weights(w_in, w_out, op["resample"]), _weights(h_in, h_out, op["resample"])
        ops.append(_Resize(src, (c, h_in, w_in), kx, ky))
    scale = torch.from_numpy(rescale / std[ch]).float()
    shift = torch.from_numpy(-mean[ch] / std[ch]).float()
    return ProcessedMasker(
        image=torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1).contiguous(),
        ops=tuple(ops),
        out=_source(out_codes, starts, sizes),
        scale=torch.where(pad, torch.zeros_like(scale), scale),
        shift=torch.where(pad, real_pv, shift),  # padding keeps the processor's value
        shape=tuple(int(v) for v in pixel_values.shape),
        family=family,
        bytes_per_mask=_working_bytes(h, w, ops, sizes),
    )


def _working_bytes(h: int, w: int, ops: list[_Resize], sizes: list[int]) -> int:
    """Bytes one masked image needs in :meth:`ProcessedMasker.apply`.

    The composite's temporaries (float32, a few image-sized), then per resize its float64 input and its
    output (float64 accumulator + float32 node).
    """
    total = 3 * h * w * (5 * 4 + 8)
    for i, op in enumerate(ops):
        n_in = int(op.source.index.numel()) if op.source.index is not None else sizes[op.source.node]
        total += 8 * n_in + 12 * sizes[i + 1]
    return total


def one_level(image_processor: Any) -> float:
    """One 8-bit level in the processor's normalised units (the largest over channels)."""
    ip = image_processor
    rescale = float(getattr(ip, "rescale_factor", 1 / 255)) if getattr(ip, "do_rescale", True) else 1.0
    std = _per_channel(getattr(ip, "image_std", 1.0)) if getattr(ip, "do_normalize", True) else np.ones(3)
    return float(rescale / std.min())


def check_masks_for(height: int, width: int) -> torch.Tensor:
    """Masks for the one-off equivalence check: a hard-edged block and a soft-edged disc (edges everywhere)."""
    hard = torch.ones(height, width)
    hard[height // 4 : height // 2 + 1, width // 3 : (2 * width) // 3 + 1] = 0
    yy, xx = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    r = torch.sqrt((yy - 0.6 * height) ** 2 + (xx - 0.4 * width) ** 2)
    soft = ((r - min(height, width) / 4) / 3).clamp(0, 1)
    return torch.stack([hard, soft])
