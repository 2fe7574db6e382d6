"""Boundary checks shared by ``load_model`` and the adapters: batch size, text, generations, device, dtype.

Each raises a ValueError or TypeError that names the argument and says what was expected, before the value
reaches transformers, a tokenizer or torch (where it would fail deep inside, or silently do something else).
"""

from __future__ import annotations

import numbers
from typing import Any


def check_batch_size(value: Any, name: str = "batch_size", allow_none: bool = True) -> int | None:
    """A positive int (numpy ints accepted), or None when ``allow_none``; bools and floats refused.

    ``batch_size=0`` used to fall back silently to the default (64) and ``batch_size=True`` to 1.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "a positive int or None" if allow_none else "a positive int"
        raise TypeError(f"{name}: expected {expected}, got {type(value).__name__} {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name}: expected a positive int (masked images per forward), got {int(value)}")
    return int(value)


def check_text(value: Any, name: str, allow_empty: bool = False) -> str:
    r"""A str that is valid Unicode text (no lone surrogates such as ``"\ud800"``), not blank unless allowed."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(
            f"{name}: contains {value[err.start]!r} at index {err.start}, a lone surrogate that is not valid "
            "Unicode text (often a broken decode of UTF-16 or of an emoji); fix the text, e.g. "
            "text.encode('utf-16', 'surrogatepass').decode('utf-16')"
        ) from None
    if not allow_empty and not value.strip():
        raise ValueError(f"{name}: got an empty string")
    return value


def check_generation(gen: Any, name: str = "gen") -> Any:
    """``gen`` when it is a :class:`~xattr_lab.models.protocol.Generation`, else a TypeError naming ``name``."""
    from xattr_lab.models.protocol import Generation

    if not isinstance(gen, Generation):
        raise TypeError(f"{name}: expected a Generation from model.generate(...), got {type(gen).__name__}")
    return gen


def check_device(device: Any) -> Any:
    """A ``torch.device`` that exists on this machine (None: CUDA when available, else CPU).

    Raises:
        TypeError: when ``device`` is not a str, int or torch.device.
        ValueError: for an unknown device string, or an accelerator this machine does not have.
    """
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise TypeError(f"device: expected a str such as 'cpu' or 'cuda:0', or a torch.device; got {device!r}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"device: {device!r} is not a torch device (e.g. 'cpu', 'cuda', 'cuda:1', 'mps')") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device: {device!r} asked for a CUDA GPU, but torch sees none (torch.cuda.is_available() is "
                "False); use device='cpu' or leave device=None"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device: {device!r}, but this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device: {device!r}, but MPS is not available here; use device='cpu'")
    elif dev.type not in ("cpu", "meta"):
        available = getattr(getattr(torch, dev.type, None), "is_available", None)
        if available is None or not available():
            raise ValueError(f"device: {device!r} is not available on this machine; use device='cpu'")
    return dev


def check_dtype(dtype: Any, device: Any) -> Any:
    """A floating ``torch.dtype`` from a dtype or its name (None: bfloat16 on CUDA, float32 elsewhere).

    Raises:
        TypeError: when ``dtype`` is neither a torch dtype nor a str (``dtype=int``, ``np.float32``).
        ValueError: for an unknown name, or a dtype that cannot hold weights (integers, bool, complex).
    """
    import torch

    if dtype is None:
        # bf16 on accelerators (what the reference code runs), float32 on CPU where bf16 is slow
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ValueError(f"dtype: unknown torch dtype {dtype!r} (e.g. 'float32', 'bfloat16', 'float16')")
        dtype = value
    if not isinstance(dtype, torch.dtype):
        raise TypeError(
            f"dtype: expected a torch dtype or its name (e.g. torch.bfloat16 or 'float32'), got "
            f"{getattr(dtype, '__name__', type(dtype).__name__)}"
        )
    if not dtype.is_floating_point:
        raise ValueError(f"dtype: model weights need a floating dtype (float32, bfloat16, float16), got {dtype}")
    return dtype


def check_processor(processor: Any, source: str = "the caller", exc: type[Exception] = TypeError) -> Any:
    """``processor`` when it can prepare images (it has an ``image_processor``), else a clear error.

    A bare tokenizer passed (or loaded) as the processor used to be accepted: the model then saw one literal
    placeholder token and no pixels, and every map explained nothing.

    Args:
        processor: the processor to check.
        source: where it came from, for the message (a directory, or ``"the caller"``).
        exc: the error to raise (TypeError for a passed object, ValueError for a saved directory).

    Raises:
        TypeError: (or ``exc``) when ``processor`` has no image processor.
    """
    if getattr(processor, "image_processor", None) is None:
        raise exc(
            f"processor: the processor from {source} is a {type(processor).__name__} with no image processor, so "
            "the model would never see the image. Pass (or save next to the model) a multimodal processor, "
            "e.g. AutoProcessor.from_pretrained(...) or the family's processor built from an image processor "
            "and a tokenizer (Qwen2-VL without torchvision: xattr_lab.models.qwen.image_only_processor)"
        )
    return processor
