"""Train the ShapesVLM from scratch: ``python -m xattr_lab.models.toy.train [--steps N] [--out DIR]``.

Seeds are fixed throughout (initialisation, scenes, task draws); the same torch build and thread count
should give the same weights, though only the accuracy, not bit equality, has been checked. The defaults
(4800 steps of 64 samples, two threads) took 18 min 42 s wall on an idle 2-core machine.

The loss is next-token cross-entropy on the answer tokens plus three training-only terms that make a model
this small learn in a CPU budget what large MLLMs learn from scale (each can be switched off):

* a probe on the projected image tokens: every patch predicts its grid cell's colour, shape and the cell;
* attention guidance: the position that predicts the first answer token attends (last decoder layer, mean
  over heads) to the asked-about object's patches;
* a logit-lens term: at every image token the LM head scores the colour and shape words of its cell's
  object high and the others low, as the logit lens reads object words at image tokens in large MLLMs.

Without them, 6500 steps left lookups ("what colour is the circle?") near chance. Half of the samples also
get black rectangles over background (``occlude_background``), which took EAGLE's pointing game with its
black baseline from 0.30 to 0.98.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xattr_lab.datasets.scenes import COLOURS, SHAPES
from xattr_lab.datasets.shapes import ShapesSample, sample
from xattr_lab.models.toy.build import (
    IMAGE_MEAN,
    IMAGE_SIZE,
    IMAGE_STD,
    N_IMAGE_TOKENS,
    PATCH,
    WEIGHTS_DIR,
    build_model,
    build_processor,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

# lookups ("what colour is the circle?") are what the decoder learns last, so they get most of the batches
TASK_WEIGHTS: dict[str, float] = {
    "caption": 0.15,
    "count": 0.1,
    "position": 0.2,
    "presence": 0.2,
    "colour": 0.175,
    "shape": 0.175,
}
IGNORE = -100


def box_cell(box: tuple[int, int, int, int]) -> int:
    """The 2 x 2 scene cell (reading order) that holds an object's box centre."""
    x0, y0, x1, y1 = box
    return 2 * int((y0 + y1) / 2 >= IMAGE_SIZE / 2) + int((x0 + x1) / 2 >= IMAGE_SIZE / 2)


def patch_cells(grid: int) -> torch.Tensor:
    """Which of the 2 x 2 scene cells each of the ``grid x grid`` patches (reading order) lies in."""
    if grid % 2:
        raise ValueError(f"grid: the patch grid must split into 2 x 2 cells, got {grid} x {grid}")
    rows = torch.arange(grid) // (grid // 2)
    return (2 * rows[:, None] + rows[None, :]).flatten()


class CellProbe(torch.nn.Module):
    """Training-only heads that read the colour and shape of its grid cell's object from every image token.

    Next-token loss alone reaches the vision tower through three decoder layers and teaches shapes very
    slowly on a CPU budget; this auxiliary loss gives the image features a direct signal, on every patch so
    that any patch of an object can answer a lookup. The probe is not part of the saved model.
    """

    def __init__(self, hidden: int, grid: int) -> None:
        super().__init__()
        self.register_buffer("patch_cell", patch_cells(grid), persistent=False)
        self.colour = torch.nn.Linear(hidden, len(COLOURS) + 1)  # class 0: empty cell
        self.shape = torch.nn.Linear(hidden, len(SHAPES) + 1)
        # the cell itself: image tokens must carry where they are for "where is ...?" lookups, because
        # the decoder's rotary positions move nothing into the values it reads
        self.cell = torch.nn.Linear(hidden, 4)

    def loss(self, features: torch.Tensor, colour: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the heads on projected image tokens [B, grid*grid, D] against cell labels [B, 4]."""
        ce = torch.nn.functional.cross_entropy
        colour_p, shape_p = colour[:, self.patch_cell], shape[:, self.patch_cell]
        cell_p = self.patch_cell.expand(features.shape[0], -1)
        return (
            ce(self.colour(features).flatten(0, 1), colour_p.flatten())
            + ce(self.shape(features).flatten(0, 1), shape_p.flatten())
            + ce(self.cell(features).flatten(0, 1), cell_p.flatten())
        )


def target_patches(samples: list[ShapesSample], grid: int) -> torch.Tensor:
    """[B, grid*grid] bool: the patches of the cell holding each sample's asked-about object.

    All False where the question is about no single object (counts, captions, absent objects).
    """
    patch_cell = patch_cells(grid)
    out = torch.zeros(len(samples), grid * grid, dtype=torch.bool)
    for i, s in enumerate(samples):
        if s.target is not None:
            out[i] = patch_cell == box_cell(s.boxes[s.target])
    return out


def attention_loss(
    attentions: tuple[torch.Tensor, ...], batch: dict[str, torch.Tensor], targets: torch.Tensor, image_id: int
) -> torch.Tensor:
    """-log of the attention mass the first answer position puts on the asked-about object's patches.

    Last decoder layer, mean over heads, over the samples that ask about one object.

    A 3-layer decoder trained on answers alone learned captions and counts (position-based routing) but not
    content lookups ("what colour is the circle?") within the CPU budget; this guides the routing directly.
    """
    keep = targets.any(dim=1)
    if not keep.any():
        return attentions[-1].new_zeros(())
    first_answer = (batch["labels"] != IGNORE).int().argmax(dim=1) - 1  # the position that predicts it
    att = attentions[-1].mean(dim=1)  # [B, T, T]
    rows = att[torch.arange(att.shape[0]), first_answer]  # [B, T]
    image_pos = batch["input_ids"] == image_id  # [B, T], grid*grid per row in reading order
    mass = torch.zeros(att.shape[0])
    for i in torch.nonzero(keep).flatten().tolist():
        mass[i] = rows[i, image_pos[i]][targets[i]].sum()
    return -torch.log(mass[keep] + 1e-6).mean()


def patch_words(samples: list[ShapesSample], grid: int, min_cover: float = 0.1) -> torch.Tensor:
    """[B, grid*grid, 9] 0/1: the colour and shape words of the object under each patch.

    Words in the order ``COLOURS`` then ``SHAPES``; a patch counts as under an object when the object covers
    at least ``min_cover`` of it; background patches get no word.
    """
    n_c, size = len(COLOURS), IMAGE_SIZE // grid
    out = torch.zeros(len(samples), grid * grid, n_c + len(SHAPES))
    for i, s in enumerate(samples):
        for name, mask in zip(s.objects, s.masks):
            colour, shape = name.split(" ")
            cover = mask.reshape(grid, size, grid, size).mean(axis=(1, 3)).reshape(-1)
            hit = torch.from_numpy(cover >= min_cover)
            out[i, hit, list(COLOURS).index(colour)] = 1.0
            out[i, hit, n_c + SHAPES.index(shape)] = 1.0
    return out


def lens_loss(
    logits: torch.Tensor, batch: dict[str, torch.Tensor], words: torch.Tensor, word_ids: torch.Tensor, image_id: int
) -> torch.Tensor:
    """Binary cross-entropy of the logit lens at the image tokens against the words of the object under them.

    The logit of ``red`` at an image token (last layer, LM head) should be high exactly where a red object
    is, as the logit lens shows it in large MLLMs (the premise of TAM); nothing else trains the image
    positions' outputs, so without this they are arbitrary in a model this small.

    Args:
        logits: [B, T, V] output logits.
        batch: the encoded batch.
        words: [B, P, 9] targets from ``patch_words``.
        word_ids: token ids of ``COLOURS`` then ``SHAPES``.
        image_id: the image token id.
    """
    b, p, _ = words.shape
    image_logits = logits[batch["input_ids"] == image_id].view(b, p, -1)[..., word_ids]
    return torch.nn.functional.binary_cross_entropy_with_logits(image_logits, words)


def cell_labels(samples: list[ShapesSample]) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour and shape class per grid cell ([B, 4] each; 0 = empty), from the objects' boxes."""
    colours, shapes_ = list(COLOURS), list(SHAPES)
    col = torch.zeros(len(samples), 4, dtype=torch.long)
    shp = torch.zeros(len(samples), 4, dtype=torch.long)
    for i, s in enumerate(samples):
        for name, box in zip(s.objects, s.boxes):
            colour, shape = name.split(" ")
            cell = box_cell(box)
            col[i, cell] = colours.index(colour) + 1
            shp[i, cell] = shapes_.index(shape) + 1
    return col, shp


def pixel_values(images: list[np.ndarray]) -> torch.Tensor:
    """CLIP normalisation of 96-px uint8 images, identical to the saved processor (resize/crop are no-ops)."""
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def lr_factor(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to zero at ``steps``."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def adamw_schedule(
    params: list[tuple[str, torch.nn.Parameter]], lr: float, steps: int
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """The toy trainers' optimiser over named parameters, and its learning-rate schedule.

    AdamW with weight decay 0.05 on matrices, none on embeddings, biases and norms; :func:`lr_factor`
    with a warm-up over 5% of ``steps``.
    """
    decay = [p for n, p in params if p.ndim >= 2 and "embed" not in n]
    no_decay = [p for n, p in params if p.ndim < 2 or "embed" in n]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98)
    )
    warmup = max(1, steps // 20)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda step: lr_factor(step, steps, warmup))


def optimiser_step(model: Any, opt: torch.optim.Optimizer, sched: Any) -> None:
    """Clip the model's gradients to norm 1, step the optimiser and the schedule, clear the gradients."""
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)


def pad_rows(rows: list[list[int]], labels: list[list[int]], pad_id: int) -> tuple[torch.Tensor, ...]:
    """Right-pad token rows and their labels into ``(input_ids, attention_mask, labels)`` tensors."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id)
    lab = torch.full((len(rows), width), IGNORE)
    att = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, la) in enumerate(zip(rows, labels)):
        ids[i, : len(r)] = torch.tensor(r)
        lab[i, : len(la)] = torch.tensor(la)
        att[i, : len(r)] = 1
    return ids, att, lab


def encode(
    samples: list[ShapesSample], tokenizer: PreTrainedTokenizerFast, n_image_tokens: int | None = None
) -> dict[str, torch.Tensor]:
    """Token ids ``<s> <image>*N prompt <sep> answer </s>`` (right-padded), labels on the answer only.

    The prompt part is exactly what the processor's chat template produces (a test checks it).
    """
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    n_image = n_image_tokens if n_image_tokens is not None else N_IMAGE_TOKENS
    sep_id = tokenizer.convert_tokens_to_ids("<sep>")
    rows, labels = [], []
    for s in samples:
        prompt = [tokenizer.bos_token_id, *[image_id] * n_image]
        prompt += tokenizer(s.prompt, add_special_tokens=False)["input_ids"] + [sep_id]
        answer = tokenizer(s.answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append(prompt + answer)
        labels.append([IGNORE] * len(prompt) + answer)
    ids, att, lab = pad_rows(rows, labels, tokenizer.pad_token_id)
    return {
        "input_ids": ids,
        "attention_mask": att,
        "labels": lab,
        "pixel_values": pixel_values([s.image for s in samples]),
    }


def occlude_background(image: np.ndarray, masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Black out a few random rectangles of background (never an object pixel), so answers stay true.

    Perturbation methods replace regions by black (EAGLE's baseline); a model that has only seen light
    backgrounds reads a black patch next to an object as part of its silhouette and changes its answer.
    """
    out = image.copy()
    free = ~masks.any(axis=0)
    for _ in range(int(rng.integers(1, 6))):
        h, w = (int(v) for v in rng.integers(8, 49, size=2))
        y, x = int(rng.integers(0, IMAGE_SIZE - h + 1)), int(rng.integers(0, IMAGE_SIZE - w + 1))
        box = np.zeros_like(free)
        box[y : y + h, x : x + w] = True
        out[box & free] = 0
    return out


def training_samples(step: int, batch_size: int, seed: int, occlusion: float = 0.0) -> list[ShapesSample]:
    """The batch for one step: scene seeds ``step * batch_size + i`` of stream 0, tasks drawn by weight.

    A share ``occlusion`` of the samples get black background rectangles (``occlude_background``).
    """
    rng = np.random.default_rng([seed, step])
    tasks = rng.choice(list(TASK_WEIGHTS), size=batch_size, p=list(TASK_WEIGHTS.values()))
    out = [sample(step * batch_size + i, str(t)) for i, t in enumerate(tasks)]
    for i, s in enumerate(out):
        if rng.random() < occlusion:
            out[i] = dataclasses.replace(s, image=occlude_background(s.image, s.masks, rng))
    return out


def teacher_forced_exact(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-sample exact match of greedy answers, in one forward.

    With the correct prefix fed back, greedy decoding reproduces the answer exactly when the argmax is right
    at every answer position (including the end token), so this equals generate-and-compare.
    """
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    pred = logits[:, :-1].argmax(-1)
    labels = batch["labels"][:, 1:]
    ok = (pred == labels) | (labels == IGNORE)
    return ok.all(dim=1)


def _save(model: Any, processor: Any, out: Path, meta: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")


def save_checkpoint(
    model: Any,
    processor: Any,
    out: Path,
    meta: dict[str, Any],
    done: int,
    steps: int,
    start: float,
    history: list[dict[str, Any]],
    eager: bool = False,
) -> None:
    """Save a checkpoint after ``done`` of ``steps`` steps, with ``meta`` plus progress and ``history``.

    Args:
        eager: the model trains with the eager attention kernel; it is saved with ``sdpa`` (the default
            for inference) and switched back.
    """
    if eager:
        model.set_attn_implementation("sdpa")
    _save(model, processor, Path(out), {**meta, "completed_steps": done, "finished": done == steps,
                                        "train_seconds": round(time.time() - start, 1),
                                        "history": history})  # fmt: skip
    if eager:
        model.set_attn_implementation("eager")


def train(
    steps: int = 4800,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    out: Path | None = WEIGHTS_DIR,
    log_every: int = 50,
    patch: int = PATCH,
    init: Path | None = None,
    step_offset: int = 0,
    aux_weight: float = 1.0,
    attention_weight: float = 2.0,
    lens_weight: float = 0.5,
    lens_start: float = 0.5,
    occlusion: float = 0.5,
) -> Any:
    """Train a fresh ShapesVLM and save it (model, tokenizer, processor) to ``out``.

    Args:
        steps: optimiser steps.
        batch_size: samples per step.
        lr: peak AdamW learning rate (linear warm-up, cosine decay).
        seed: seed of the initialisation and the task draws.
        out: directory to save into (None: don't save).
        log_every: print a JSON line every this many steps.
        patch: vision patch size in pixels (96 / patch squared image tokens).
        init: continue from the model saved in this directory instead of a fresh initialisation.
        step_offset: data offset, so a continued run sees new scenes (steps ``offset..offset+steps``).
        aux_weight: weight of the training-only cell probe loss (colour and shape per grid cell, read
            from the projected image tokens); 0 trains on next-token loss alone.
        attention_weight: weight of the training-only attention guidance (see ``attention_loss``); 0: off.
        lens_weight: weight of the logit-lens loss at the image tokens (see ``lens_loss``); 0: off.
        lens_start: fraction of the steps before the logit-lens loss starts. Lookups by shape form late
            (a jump after ~2000 steps) and did not form within 3000 steps with the lens loss on from the
            start, so it joins once they have.
        occlusion: share of training samples with black background rectangles (see ``occlude_background``).

    Returns:
        The trained model (in eval mode).
    """
    torch.manual_seed(seed)
    processor = build_processor(patch)
    n_image = (IMAGE_SIZE // patch) ** 2
    tokenizer = processor.tokenizer
    if init is not None:
        from transformers import LlavaForConditionalGeneration

        model = LlavaForConditionalGeneration.from_pretrained(init, local_files_only=True)
    else:
        model = build_model(seed, patch)
    if attention_weight > 0:
        model.set_attn_implementation("eager")  # attention weights are only returned by the eager kernel
    model.train()
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    word_ids = torch.tensor(tokenizer.convert_tokens_to_ids([*COLOURS, *SHAPES]))
    probe = CellProbe(model.config.text_config.hidden_size, IMAGE_SIZE // patch)
    captured: list[torch.Tensor] = []
    hook = model.model.multi_modal_projector.register_forward_hook(lambda _m, _i, out: captured.append(out))
    params = list(model.named_parameters()) + [(f"probe.{n}", p) for n, p in probe.named_parameters()]
    opt, sched = adamw_schedule(params, lr, steps)
    # a fixed held-out batch (stream 7, never trained on) to watch progress
    held_out = [sample(7 * 1_000_003 + i, t) for i, t in enumerate(list(TASK_WEIGHTS) * 32)]
    held_batch = encode(held_out, tokenizer, n_image)
    start = time.time()
    running = np.zeros(4)  # answer loss, probe loss, attention loss, lens loss
    for step in range(steps):
        samples = training_samples(step_offset + step, batch_size, seed, occlusion)
        batch = encode(samples, tokenizer, n_image)
        captured.clear()
        outputs = model(**batch, output_attentions=attention_weight > 0)
        parts = [outputs.loss, torch.zeros(()), torch.zeros(()), torch.zeros(())]
        if attention_weight > 0:
            targets = target_patches(samples, IMAGE_SIZE // patch)
            parts[2] = attention_loss(outputs.attentions, batch, targets, image_id)
        if aux_weight > 0:
            parts[1] = probe.loss(captured[-1], *cell_labels(samples))
        lens_on = lens_weight if step >= lens_start * steps else 0.0
        if lens_on > 0:
            parts[3] = lens_loss(outputs.logits, batch, patch_words(samples, IMAGE_SIZE // patch), word_ids, image_id)
        loss = parts[0] + aux_weight * parts[1] + attention_weight * parts[2] + lens_on * parts[3]
        loss.backward()
        optimiser_step(model, opt, sched)
        running += [float(x.detach()) for x in parts]
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n = (step % log_every) + 1
            losses = [round(float(x) / n, 4) for x in running]  # answer, probe, attention, lens
            print(json.dumps({"step": step + 1, "loss": losses,
                              "lr": round(sched.get_last_lr()[0], 6),
                              "seconds": round(time.time() - start, 1)}), flush=True)  # fmt: skip
            running[:] = 0.0
        if (step + 1) % (4 * log_every) == 0 or step + 1 == steps:
            model.eval()
            ok = teacher_forced_exact(model, held_batch)
            model.train()
            per_task = {t: round(float(ok[i :: len(TASK_WEIGHTS)].float().mean()), 3)
                        for i, t in enumerate(TASK_WEIGHTS)}  # fmt: skip
            print(json.dumps({"step": step + 1, "held_out_exact": per_task}), flush=True)
            if out is not None and step + 1 < steps:  # a checkpoint per evaluation (the last: saved below)
                _save(model, processor, Path(out), {"step": step + 1, "held_out_exact": per_task})
    hook.remove()
    if attention_weight > 0:
        model.set_attn_implementation("sdpa")
    model.eval()
    if out is not None:
        meta = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "patch": patch,
                "init": str(init) if init else None, "step_offset": step_offset, "aux_weight": aux_weight,
                "attention_weight": attention_weight, "lens_weight": lens_weight,
                "lens_start": lens_start, "occlusion": occlusion,
                "train_seconds": round(time.time() - start, 1), "torch": torch.__version__}  # fmt: skip
        if init is not None and (Path(init) / "training.json").exists():
            meta["previous"] = json.loads((Path(init) / "training.json").read_text())
        _save(model, processor, Path(out), meta)
    return model


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4800)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    # two threads: 0.21 s/step on an idle 2-core machine against 0.35 with one; on a machine shared with other
    # jobs use one (OpenMP threads spin at every barrier while the other core is taken: 20x slower there)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--patch", type=int, default=PATCH)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--init", type=Path, default=None, help="continue from this saved model")
    parser.add_argument("--step-offset", type=int, default=0, help="data offset for a continued run")
    parser.add_argument("--aux-weight", type=float, default=1.0, help="weight of the training-only cell probe")
    parser.add_argument("--attention-weight", type=float, default=2.0, help="weight of the attention guidance")
    parser.add_argument("--lens-weight", type=float, default=0.5, help="weight of the image-token logit-lens loss")
    parser.add_argument("--lens-start", type=float, default=0.5, help="fraction of steps before the lens loss starts")
    parser.add_argument("--occlusion", type=float, default=0.5, help="share of samples with black background patches")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    train(
        args.steps,
        args.batch_size,
        args.lr,
        args.seed,
        args.out,
        patch=args.patch,
        init=args.init,
        step_offset=args.step_offset,
        log_every=args.log_every,
        aux_weight=args.aux_weight,
        attention_weight=args.attention_weight,
        lens_weight=args.lens_weight,
        lens_start=args.lens_start,
        occlusion=args.occlusion,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
