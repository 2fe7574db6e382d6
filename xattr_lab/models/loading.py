"""``load_model``: one entry point from a name, a directory, a cached hub id or a loaded pair.

Nothing here downloads: hub ids resolve with ``local_files_only=True`` and transformers is imported only
when a model is actually loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xattr_lab.models.protocol import ScoringModel

BUILTIN: dict[str, str] = {"toy-shapes": "xattr_lab.models.toy.build:WEIGHTS_DIR"}


def _builtin_dir(name: str) -> Path:
    import importlib

    module, attr = BUILTIN[name].split(":")
    return Path(getattr(importlib.import_module(module), attr))


def _default_device(device: Any) -> Any:
    import torch

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _default_dtype(dtype: Any, device: Any) -> Any:
    import torch

    if dtype is None:
        # bf16 on accelerators (what the reference code runs), float32 on CPU where bf16 is slow
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        if not hasattr(torch, dtype) or not isinstance(getattr(torch, dtype), torch.dtype):
            raise ValueError(f"dtype: unknown torch dtype {dtype!r}")
        return getattr(torch, dtype)
    return dtype


def load_processor(path: str | Path, trust_remote_code: bool = False) -> Any:
    """The processor saved at ``path`` (local files only), working around processors that need torchvision."""
    from transformers import AutoProcessor

    try:
        return AutoProcessor.from_pretrained(path, local_files_only=True, trust_remote_code=trust_remote_code)
    except (ImportError, ValueError) as err:
        # Qwen2-VL's processor insists on a video processor, which needs torchvision
        from xattr_lab.models.qwen import load_image_only_processor

        processor = load_image_only_processor(path, trust_remote_code)
        if processor is None:
            raise err
        return processor


def _from_pretrained(path: str | Path, device: Any, dtype: Any, trust_remote_code: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        path, local_files_only=True, dtype=dtype, trust_remote_code=trust_remote_code
    )
    processor = load_processor(path, trust_remote_code)
    return model.to(device), processor


def load_model(
    spec: Any,
    device: Any = None,
    dtype: Any = None,
    trust_remote_code: bool = False,
    **kwargs: Any,
) -> ScoringModel:
    """Load a multimodal model as a ScoringModel, without downloading anything.

    Args:
        spec: ``"toy-shapes"`` (the built-in ShapesVLM); a local directory of a saved Hugging Face model;
            a hub id already in the local Hugging Face cache; a loaded ``(model, processor)`` pair; or a
            ScoringModel (returned as is).
        device: torch device (default: CUDA when available, else CPU).
        dtype: torch dtype or its name (default: bfloat16 on CUDA, float32 otherwise).
        trust_remote_code: allow model code from the model directory (off by default).
        **kwargs: passed to the adapter (``batch_size``, ``pixel_space``, ``name``).

    Returns:
        The adapter (``HFScoringModel`` for image-text-to-text models).

    Raises:
        TypeError: when ``spec`` is none of the accepted kinds.
        ValueError: when a name or hub id is not available locally.
    """
    if isinstance(spec, ScoringModel) and not isinstance(spec, (str, tuple)):
        return spec
    from xattr_lab.models.hf import HFScoringModel

    dev = _default_device(device)
    dt = _default_dtype(dtype, dev)
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise TypeError("spec: a tuple must be (model, processor)")
        model, processor = spec
        if not hasattr(model, "config") or processor is None:
            raise TypeError(
                "spec: expected a (transformers model, processor) pair; for an image classifier use "
                "xattr_lab.models.classifier.ClassifierScoringModel(module, class_names, preprocess)"
            )
        if device is not None or dtype is not None:
            model = model.to(device=dev, dtype=dt if dtype is not None else None)
        return HFScoringModel(model, processor, **kwargs)
    if isinstance(spec, Path):
        spec = str(spec)
    if not isinstance(spec, str):
        raise TypeError(
            f"spec: expected 'toy-shapes', a directory, a cached hub id or a (model, processor) pair, "
            f"got {type(spec).__name__}"
        )
    if spec in BUILTIN:
        path = _builtin_dir(spec)
        if not (path / "model.safetensors").exists():
            raise ValueError(
                f"spec: the {spec!r} weights are missing from {path}; run python -m xattr_lab.models.toy.train"
            )
        model, processor = _from_pretrained(path, dev, dt, trust_remote_code=False)
        return HFScoringModel(model, processor, **{"name": spec, **kwargs})
    if Path(spec).expanduser().is_dir():
        path = Path(spec).expanduser()
        model, processor = _from_pretrained(path, dev, dt, trust_remote_code)
        return HFScoringModel(model, processor, **{"name": path.name, **kwargs})
    if Path(spec).expanduser().exists():
        raise ValueError(f"spec: {spec!r} is a file; expected a model directory")
    try:
        model, processor = _from_pretrained(spec, dev, dt, trust_remote_code)
    except OSError as err:
        raise ValueError(
            f"spec: {spec!r} is neither a built-in name ({', '.join(BUILTIN)}), a local directory, nor a hub "
            "id in the local Hugging Face cache. xattr_lab never downloads: fetch it yourself (e.g. "
            f"`hf download {spec}`) or pass a local directory."
        ) from err
    return HFScoringModel(model, processor, **{"name": spec, **kwargs})
