"""``load_model``: one entry point from a name, a directory, a cached hub id or a loaded pair.

Nothing here downloads: hub ids resolve with ``local_files_only=True`` and transformers is imported only
when a model is actually loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xattr_lab.models.checks import check_batch_size, check_device, check_dtype, check_processor
from xattr_lab.models.protocol import ScoringModel

BUILTIN: dict[str, str] = {"toy-shapes": "xattr_lab.models.toy.build:WEIGHTS_DIR"}
BUILTIN["toy-shortcut"] = "xattr_lab.models.toy.shortcut:WEIGHTS_DIR"  # planted mechanism (datasets.shortcut)
BUILTIN["toy-clutter"] = "xattr_lab.models.toy.build:CLUTTER_DIR"
BUILTIN["toy-clutter-guided"] = "xattr_lab.models.toy.clutter_guided:WEIGHTS_DIR"  # + probe, attention, lens
BUILTIN["toy-shapes-native"] = "xattr_lab.models.toy.native:WEIGHTS_DIR"  # Qwen2-VL: grid follows input size
# what **kwargs may carry to the adapter
ADAPTER_OPTIONS = frozenset({"batch_size", "pixel_space", "name"})


def _builtin_dir(name: str) -> Path:
    import importlib

    module, attr = BUILTIN[name].split(":")
    return Path(getattr(importlib.import_module(module), attr))


def load_processor(path: str | Path, trust_remote_code: bool = False) -> Any:
    """The processor saved at ``path`` (local files only), working around processors that need torchvision.

    Qwen2-VL / Qwen2.5-VL directories take the image-only path when the stock processor cannot be built:
    no torchvision (ImportError / ValueError), no video processor config (OSError), or a directory saved
    under our ``ImageOnly…`` class name, which ``AutoProcessor`` would silently answer with a bare tokenizer.

    Raises:
        ValueError: when what loads has no image processor (a tokenizer saved alone, an unknown class).
    """
    from transformers import AutoProcessor

    from xattr_lab.models.qwen import IMAGE_ONLY_PREFIX, load_image_only_processor, saved_processor_class

    local = _local_dir(path)
    name = saved_processor_class(local) if local else None
    processor = None
    if name and name.startswith(IMAGE_ONLY_PREFIX):
        processor = load_image_only_processor(local, trust_remote_code)
    if processor is None:
        try:
            processor = AutoProcessor.from_pretrained(
                path, local_files_only=True, trust_remote_code=trust_remote_code
            )
        except (ImportError, ValueError, OSError) as err:
            # Qwen2-VL's processor insists on a video processor (its config, and torchvision to build it)
            processor = load_image_only_processor(local, trust_remote_code) if local else None
            if processor is None:
                raise err
    return check_processor(processor, f"{path} (processor_class {name!r})" if name else str(path), ValueError)


def _local_dir(path: str | Path) -> Path | None:
    """The directory holding ``path``'s files: itself, or a hub id's snapshot in the local cache; else None."""
    if Path(path).expanduser().is_dir():
        return Path(path).expanduser()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(path), local_files_only=True))
    except (ImportError, OSError, ValueError):  # not cached, not a repo id: AutoProcessor's error is the one
        return None


def _from_pretrained(path: str | Path, device: Any, dtype: Any, trust_remote_code: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForImageTextToText
    from transformers.utils import logging as hf_logging

    from xattr_lab.progress import in_notebook

    # transformers' "Loading weights" bar is a tqdm.auto widget in a notebook: a saved notebook reopened
    # with no kernel would show "Error displaying widget" in its place
    quiet = in_notebook() and hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            path, local_files_only=True, dtype=dtype, trust_remote_code=trust_remote_code
        )
    finally:
        if quiet:
            hf_logging.enable_progress_bar()
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
        TypeError: when ``spec`` is none of the accepted kinds, or ``dtype``, ``device``, ``batch_size`` or
            another option has the wrong type.
        ValueError: when a name or hub id is not available locally, ``spec`` is empty, ``device`` does not
            exist on this machine, ``dtype`` is not a floating dtype or ``batch_size`` is not positive.
    """
    _check_options(trust_remote_code, kwargs)
    if isinstance(spec, ScoringModel) and not isinstance(spec, (str, tuple)):
        return spec
    from xattr_lab.models.hf import HFScoringModel

    dev = check_device(device)
    dt = check_dtype(dtype, dev)
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
    if not spec.strip():
        # Path("") is the working directory: an empty name must not load whatever model sits there
        raise ValueError(
            f"spec: got an empty name; expected {', '.join(map(repr, BUILTIN))}, a model directory or a hub id "
            "(pass '.' to load the model in the working directory)"
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


def _check_options(trust_remote_code: Any, kwargs: dict[str, Any]) -> None:
    """Refuse unknown adapter options and wrong types before anything is loaded."""
    unknown = sorted(set(kwargs) - ADAPTER_OPTIONS)
    if unknown:
        raise TypeError(
            f"load_model: unknown option(s) {', '.join(unknown)}; expected any of {', '.join(sorted(ADAPTER_OPTIONS))}"
        )
    if not isinstance(trust_remote_code, bool):
        raise TypeError(f"trust_remote_code: expected True or False, got {trust_remote_code!r}")
    check_batch_size(kwargs.get("batch_size"))
    if "pixel_space" in kwargs and not isinstance(kwargs["pixel_space"], bool):
        raise TypeError(f"pixel_space: expected True or False, got {kwargs['pixel_space']!r}")
    if "name" in kwargs and not isinstance(kwargs["name"], str):
        raise TypeError(f"name: expected a str, got {type(kwargs['name']).__name__}")
