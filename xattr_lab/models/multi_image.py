"""Several images in one prompt, explained as one canvas: ``MultiImageModel(load_model(...))``.

A prompt with several images (LLaVA, LLaVA-NeXT, Qwen2-VL, Idefics3 all take them) is explained like a
single image: the images are laid side by side on one canvas (``Generation.image``; their boxes in
``Generation.geometry["images"]``), regions are drawn per image and numbered across all of them
(:func:`image_regions`), and a mask over the canvas is cut back into one mask per image before the
processor sees the images, so removing a region of image 2 changes image 2 only. Every method, the curves,
``evaluate`` and the views then work unchanged, and the view shows every image with its map.

What is not covered (yet): masking in processed pixel space (each masked canvas goes through the
processor: exact, slower), gradient and white-box methods (this wrapper offers ``"scores"`` only), and
``score_text``. The wrapper drives the adapter's own processor, tokenizer and teacher-forced forward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from xattr_lab.models.checks import check_generation
from xattr_lab.models.images import as_rgb_array, to_pil
from xattr_lab.models.masking import baseline_image, check_masks, mask_images
from xattr_lab.models.protocol import Generation


def canvas(images: Sequence[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The images side by side, top-aligned on black, and each one's box ``(x0, y0, x1, y1)``."""
    height = max(im.shape[0] for im in images)
    width = sum(im.shape[1] for im in images)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    boxes, x = [], 0
    for im in images:
        h, w = im.shape[:2]
        out[:h, x : x + w] = im
        boxes.append((x, 0, x + w, h))
        x += w
    return out, boxes


def image_boxes(gen: Generation) -> list[tuple[int, int, int, int]]:
    """The image boxes of a multi-image generation (ValueError for a single-image one)."""
    boxes = gen.geometry.get("images") if isinstance(gen.geometry, dict) else None
    if not boxes:
        raise ValueError("gen: not a multi-image generation (no 'images' boxes in its geometry)")
    return [tuple(int(v) for v in b) for b in boxes]  # type: ignore[misc]


def image_regions(spec: str, gen: Generation, seed: int = 0) -> np.ndarray:
    """A label map over the canvas: ``spec`` regions made in each image, numbered across all images.

    Canvas pixels below a shorter image take the label of the image's last row above them, so every region
    lies inside one image and the map covers the canvas.
    """
    from xattr_lab.inputs.frames import frame_regions

    return frame_regions(f"frames:{spec}", gen.image, image_boxes(gen), seed=seed).labels.astype(np.int64)


def image_mass(pixel_map: np.ndarray, gen: Generation) -> np.ndarray:
    """The share of the map's positive mass on each image, float64 [n_images] summing to 1 (or NaN)."""
    from xattr_lab.inputs.frames import frame_mass

    return frame_mass(pixel_map, image_boxes(gen))


class MultiImageModel:
    """A transformers adapter (``xattr_lab.load_model``) given several images per prompt.

    Args:
        base: the single-image adapter whose model, processor and forward are used.

    ``generate(images, prompt)`` takes a list of images; everything else is the ScoringModel protocol over
    the canvas (masks [B, H, W] at the canvas's size).
    """

    capabilities = frozenset({"scores"})

    def __init__(self, base: Any) -> None:
        for attr in ("model", "processor", "tokenizer", "_forward_probs", "with_target"):
            if not hasattr(base, attr):
                raise TypeError(f"base: expected a transformers adapter from xattr_lab.load_model, missing {attr}")
        self.base = base
        self.name = f"{base.name} (multi-image)"

    @property
    def n_forward(self) -> int:
        """Forward passes of the underlying adapter."""
        return int(self.base.n_forward)

    def chat_text(self, prompt: str, n_images: int) -> str:
        """The model-ready text with ``n_images`` images before the question (the chat template's layout)."""
        from xattr_lab.models.hf_chat import _render, find_template, image_markers

        base = self.base
        token, markup = image_markers(base.processor, base.tokenizer, base.model.config, base.image_token_id)
        template, _ = find_template(base.processor, base.tokenizer)
        if template is not None:
            content = [{"type": "image"}] * n_images + [{"type": "text", "text": prompt}]
            text = base.processor.apply_chat_template(
                [{"role": "user", "content": content}], chat_template=template, add_generation_prompt=True,
                tokenize=False,
            )  # fmt: skip
            if text.count(token) == n_images:
                return text
            one = _render(base.processor, template, prompt)
            if one.count(markup) == 1:
                return one.replace(markup, "\n".join([markup] * n_images))
        return "\n".join([markup] * n_images) + "\n" + prompt

    def _encode(self, canvases: Sequence[np.ndarray], boxes: Sequence[tuple[int, int, int, int]], text: str) -> Any:
        images = [[to_pil(np.ascontiguousarray(c[y0:y1, x0:x1])) for x0, y0, x1, y1 in boxes] for c in canvases]
        with self.base._lock:
            enc = self.base.processor(images=images, text=[text] * len(canvases), return_tensors="pt")
        return {k: v.to(self.base.device) for k, v in enc.items() if isinstance(v, torch.Tensor)}

    def generate(self, images: Sequence[Any], prompt: str, max_new_tokens: int = 16) -> Generation:
        """Generate greedily from several images and a prompt.

        Raises:
            ValueError: for fewer than two images or an empty prompt.
        """
        if isinstance(images, np.ndarray) or not isinstance(images, (list, tuple)) or len(images) < 2:
            raise ValueError("images: expected a list of at least two images (use the base model for one)")
        arrays = [as_rgb_array(im, f"images[{i}]") for i, im in enumerate(images)]
        prompt = self.base._check_prompt(prompt)
        image, boxes = canvas(arrays)
        text = self.chat_text(prompt, len(arrays))
        enc = self._encode([image], boxes, text)
        base = self.base
        with base._lock, torch.no_grad():
            out = base.model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=base._pad_id,
                suppress_tokens=[base.image_token_id],
            )  # fmt: skip
            base.n_forward += 1
        input_ids = enc["input_ids"][0].detach().cpu()
        ids = []
        for i in out[0, input_ids.shape[0] :].tolist():
            if i in base._stop_ids:
                break
            ids.append(int(i))
        where = (input_ids == base.image_token_id).nonzero().flatten()
        return Generation(
            image=image,
            prompt=prompt,
            input_ids=input_ids,
            generated_ids=torch.tensor(ids, dtype=torch.long),
            prompt_tokens=base._prompt_tokens(input_ids),
            generated_tokens=base._display(ids),
            image_token_span=(int(where[0]), int(where[-1]) + 1) if len(where) else (0, 0),
            geometry={
                "images": [list(b) for b in boxes],
                "n_images": len(boxes),
                "chat_text": text,
                "masking_path": "mask_then_process",
            },
            model_id=self.name,
        )

    def with_target(self, gen: Generation, target: str | list[int]) -> Generation:
        """``gen`` with its generated tokens replaced by ``target`` (text or token ids)."""
        return dataclasses.replace(self.base.with_target(gen, target), model_id=self.name)

    def score(
        self,
        gen: Generation,
        masks: torch.Tensor | np.ndarray,
        positions: list[int] | None = None,
        baseline: str | float = "black",
        tokens: Sequence[int] | None = None,
    ) -> torch.Tensor:
        """Probabilities [B, K] of the generated tokens (or ``tokens``) at ``positions``, per canvas mask.

        Each masked canvas is cut into its images, which the processor receives as one multi-image sample.
        """
        check_generation(gen)
        boxes = image_boxes(gen)
        pos = self.base._positions(gen, positions)  # tokens to score, positions in range
        targets = gen.generated_ids[pos] if tokens is None else torch.tensor([int(t) for t in tokens])
        if len(targets) != len(pos):
            raise ValueError(f"tokens: expected {len(pos)} token ids, got {len(targets)}")
        h, w = gen.image.shape[:2]
        masks = check_masks(masks, h, w)
        base_img = baseline_image(baseline, gen.image)
        text = str(gen.geometry.get("chat_text") or self.chat_text(gen.prompt, len(boxes)))
        n_in = gen.input_ids.shape[0]
        last = max(pos)
        prefix = torch.cat([gen.input_ids, gen.generated_ids[:last]]).to(self.base.device)
        keep = torch.tensor([n_in + p - 1 for p in pos], device=self.base.device)
        targets = targets.to(self.base.device)
        input_ids = gen.input_ids.cpu()

        def run(start: int, stop: int) -> torch.Tensor:
            chunk = masks[start:stop]
            b = chunk.shape[0]
            enc = self._encode(list(mask_images(gen.image, chunk, base_img)), boxes, text)
            if not torch.equal(enc["input_ids"][0].cpu(), input_ids):
                raise ValueError("gen: its input_ids do not match this model's processing of its images and prompt")
            inputs = {k: v for k, v in enc.items() if k not in ("input_ids", "attention_mask")}
            inputs["input_ids"] = prefix[None].expand(b, -1)
            inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
            for key in ("token_type_ids", "mm_token_type_ids"):
                if key in enc:
                    pad = torch.zeros((b, last), dtype=enc[key].dtype, device=enc[key].device)
                    inputs[key] = torch.cat([enc[key], pad], dim=1)
            with torch.no_grad():
                return self.base._forward_probs(inputs, keep.expand(b, -1), targets.expand(b, -1)).cpu()

        # the adapter's automatic batch: its size (and its out-of-memory back-off) holds for both paths
        return self.base._batch.run(masks.shape[0], run)

    def score_text(self, gen: Generation, variants: list[str], positions: list[int] | None = None) -> torch.Tensor:
        """Not offered for multi-image prompts."""
        raise NotImplementedError("MultiImageModel: score_text is not available for multi-image prompts")


__all__ = ["MultiImageModel", "canvas", "image_boxes", "image_mass", "image_regions"]
