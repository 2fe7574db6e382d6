"""Train ``toy-shapes-native``: ``python -m xattr_lab.models.toy.native_train [--steps N] [--no-save]``.

The ShapesVLM's recipe (:mod:`xattr_lab.models.toy.train`) on a tiny Qwen2-VL (:mod:`.native`) whose token
grid follows the input size. Each step draws one input size from ``TRAIN_SIZES`` (48 to 240 px in 16-px
steps: MSEA's 0.5 / 1.0 / 1.5 scales of 96-160 px inputs stay in distribution) and a batch of stream-0
shapes scenes at that size (drawn at 96 px, then resampled with their masks, see
:func:`xattr_lab.datasets.shapes.rescale`); half of them with black background rectangles, added at 96 px
before resampling, as for the ShapesVLM.

The same three training-only terms as the ShapesVLM's, on any grid (a patch belongs to the 2 x 2 scene cell
holding its centre):

* a probe on the projected image tokens: every patch predicts its cell's object's colour and shape (or
  "empty") and its cell;
* attention guidance: the position that predicts the first answer token attends (last decoder layer, mean
  over heads) to the patches of the asked-about object's cell;
* a logit-lens term from ``lens_start`` of the steps on: at each image token the LM head scores the colour
  and shape words of the object covering >= 10% of the patch high, the others low.

They put the right answer into the model's internals (TAM's premise), as on the ShapesVLM, so TAM maps of
the two models are comparable; they flatter TAM and pointing games in the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xattr_lab.datasets.scenes import COLOURS, SHAPES
from xattr_lab.datasets.shapes import TASKS, ShapesSample, _box, rescale, sample
from xattr_lab.models.toy.native import (
    IMAGE_PAD,
    PATCH,
    TRAIN_COMMAND,
    TRAIN_SIZES,
    WEIGHTS_DIR,
    build_model,
    build_processor,
    patchify,
)
from xattr_lab.models.toy.train import (
    IGNORE,
    TASK_WEIGHTS,
    adamw_schedule,
    attention_loss,
    lens_loss,
    occlude_background,
    optimiser_step,
    pad_rows,
    save_checkpoint,
    teacher_forced_exact,
)

WATCH_SIZES = (48, 96, 160, 240)
EVAL_SIZES = (64, 96, 128, 160, 192, 240)


def patch_scene_cells(side: int) -> torch.Tensor:
    """[side*side] the 2 x 2 scene cell (reading order) holding each patch's centre."""
    band = ((torch.arange(side) + 0.5) / side >= 0.5).long()
    return (2 * band[:, None] + band[None, :]).flatten()


def object_cell(box: tuple[int, int, int, int], size: int) -> int:
    """The 2 x 2 scene cell holding a box's centre in a ``size``-px image."""
    x0, y0, x1, y1 = box
    return 2 * int((y0 + y1) / 2 >= size / 2) + int((x0 + x1) / 2 >= size / 2)


def targets(samples: list[ShapesSample], min_cover: float = 0.1) -> dict[str, torch.Tensor]:
    """Per-patch guidance targets of same-size samples.

    Returns ``colour`` / ``shape`` ([B, P] long, 0 = empty cell: the object of the patch's cell), ``cell``
    ([B, P]), ``attend`` ([B, P] bool: the asked-about object's cell) and ``words`` ([B, P, 9] 0/1: colour and
    shape words of the object covering ``min_cover`` of the patch, ``COLOURS`` then ``SHAPES``).
    """
    size = samples[0].image.shape[0]
    side = size // PATCH
    cells = patch_scene_cells(side)
    b, p, n_c = len(samples), side * side, len(COLOURS)
    out = {k: torch.zeros(b, p, dtype=torch.long) for k in ("colour", "shape")}
    out["cell"] = cells.expand(b, -1)
    out["attend"] = torch.zeros(b, p, dtype=torch.bool)
    out["words"] = torch.zeros(b, p, n_c + len(SHAPES))
    for i, s in enumerate(samples):
        for k, (name, box, mask) in enumerate(zip(s.objects, s.boxes, s.masks)):
            colour, shape = name.split(" ")
            c_i, s_i = list(COLOURS).index(colour), SHAPES.index(shape)
            in_cell = cells == object_cell(box, size)
            out["colour"][i, in_cell], out["shape"][i, in_cell] = c_i + 1, s_i + 1
            if s.target == k:
                out["attend"][i] = in_cell
            cover = mask.reshape(side, PATCH, side, PATCH).mean(axis=(1, 3)).reshape(-1)
            hit = torch.from_numpy(cover >= min_cover)
            out["words"][i, hit, c_i] = 1.0
            out["words"][i, hit, n_c + s_i] = 1.0
    return out


class Probe(torch.nn.Module):
    """Training-only heads reading the cell's object and the cell from every image token (not saved)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.colour = torch.nn.Linear(hidden, len(COLOURS) + 1)
        self.shape = torch.nn.Linear(hidden, len(SHAPES) + 1)
        self.cell = torch.nn.Linear(hidden, 4)

    def loss(self, features: torch.Tensor, t: dict[str, torch.Tensor]) -> torch.Tensor:
        """Summed cross-entropy on image tokens [B, P, D]."""
        ce = torch.nn.functional.cross_entropy
        f = features.flatten(0, 1)
        return ce(self.colour(f), t["colour"].flatten()) + ce(self.shape(f), t["shape"].flatten()) + ce(
            self.cell(f), t["cell"].flatten()
        )


def encode(samples: list[ShapesSample], processor: Any) -> dict[str, torch.Tensor]:
    """Chat-template prompt (``<|image_pad|>`` expanded per token) + answer, labels on the answer only.

    All samples must share one size. The prompt is what the saved processor makes (a test checks it).
    """
    tok = processor.tokenizer
    side = samples[0].image.shape[0] // PATCH
    rows, labels = [], []
    for s in samples:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": s.prompt}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt = tok(text.replace(IMAGE_PAD, IMAGE_PAD * side * side), add_special_tokens=False)["input_ids"]
        answer = tok(s.answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append(prompt + answer)
        labels.append([IGNORE] * len(prompt) + answer)
    ids, att, lab = pad_rows(rows, labels, tok.pad_token_id)
    pixels, thw = patchify([s.image for s in samples])
    mm = (ids == tok.convert_tokens_to_ids(IMAGE_PAD)).long()  # what the processor returns beside input_ids
    return {"input_ids": ids, "attention_mask": att, "labels": lab, "pixel_values": pixels, "image_grid_thw": thw,
            "mm_token_type_ids": mm}  # fmt: skip


def scene(seed: int, task: str, size: int, occlude: bool, rng: np.random.Generator) -> ShapesSample:
    """One training sample at ``size`` px (occluded at 96 px first when ``occlude``)."""
    s = sample(seed, task)
    if occlude:
        s = dataclasses.replace(s, image=occlude_background(s.image, s.masks, rng))
    if size == s.image.shape[0]:
        return s
    image, masks = rescale(s.image, s.masks, size)
    boxes = tuple(_box(m) for m in masks)
    return dataclasses.replace(s, image=image, masks=masks, boxes=boxes)


def step_samples(step: int, batch_size: int, seed: int, occlusion: float) -> list[ShapesSample]:
    """The batch of one step: one size, scene seeds ``step * batch_size + i`` of stream 0, tasks by weight."""
    rng = np.random.default_rng([seed, step])
    size = int(rng.choice(TRAIN_SIZES))
    tasks = rng.choice(list(TASK_WEIGHTS), size=batch_size, p=list(TASK_WEIGHTS.values()))
    return [
        scene(step * batch_size + i, str(t), size, bool(rng.random() < occlusion), rng) for i, t in enumerate(tasks)
    ]


def exact_by_task(model: Any, samples: list[ShapesSample], processor: Any, batch: int = 48) -> dict[str, float]:
    """Teacher-forced exact match per task (equal to greedy generate-and-compare); one size per call."""
    ok: list[bool] = []
    for i in range(0, len(samples), batch):
        ok += teacher_forced_exact(model, encode(samples[i : i + batch], processor)).tolist()
    tasks = [t for t in TASKS if any(s.task == t for s in samples)]
    return {t: round(float(np.mean([c for s, c in zip(samples, ok) if s.task == t])), 3) for t in tasks}


def held_out(size: int, n_per_task: int, stream: int) -> list[ShapesSample]:
    """``n_per_task`` scenes of every task at ``size`` px from held-out stream ``stream`` (>= 1)."""
    if stream < 1:
        raise ValueError("stream: stream 0 is the training stream; use >= 1")
    from xattr_lab.datasets.shapes import shapes

    return [s for t in TASKS for s in shapes(n_per_task, seed=stream, task=t, size=size)]


def train(
    steps: int = 1300,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    out: Path | None = WEIGHTS_DIR,
    aux_weight: float = 1.0,
    attention_weight: float = 2.0,
    lens_weight: float = 0.5,
    lens_start: float = 0.5,
    occlusion: float = 0.5,
    log_every: int = 25,
    eval_every: int = 200,
    n_watch: int = 8,
    stop_after: int | None = None,
    time_limit: float | None = None,
    init: Path | None = None,
    step_offset: int = 0,
) -> Any:
    """Train a fresh ``toy-shapes-native`` and save a checkpoint at every watch evaluation.

    Args:
        steps: optimiser steps of the schedule (linear warm-up over 5%, cosine decay to zero).
        batch_size: samples per step (one input size per step).
        lr: peak AdamW learning rate.
        seed: seed of the initialisation, the sizes, the task draws and the occlusions.
        out: directory to save into (None: don't save).
        aux_weight: weight of the probe (0: off).
        attention_weight: weight of the attention guidance (0: off).
        lens_weight: weight of the logit-lens term (0: off).
        lens_start: fraction of the steps before the logit-lens term starts (as for the ShapesVLM).
        occlusion: share of samples with black background rectangles.
        log_every: print the losses every this many steps.
        eval_every: evaluate on the watch set (stream 7, ``WATCH_SIZES``) and checkpoint every this many steps.
        n_watch: watch scenes per task and size.
        stop_after: stop after this many steps of the schedule (None: all of it).
        time_limit: stop at the first evaluation after this many seconds (None: no limit).
        init: continue from the model saved in this directory (a second stage) instead of a fresh one.
        step_offset: data offset of a continued run, so that it sees new scenes (steps ``offset..``).

    Returns:
        The trained model (eval mode).
    """
    torch.manual_seed(seed)
    processor = build_processor()
    tok = processor.tokenizer
    if init is not None:
        from transformers import Qwen2VLForConditionalGeneration

        previous = json.loads((Path(init) / "training.json").read_text())
        model = Qwen2VLForConditionalGeneration.from_pretrained(init, local_files_only=True)
    else:
        model = build_model(seed)
    if attention_weight > 0:
        model.set_attn_implementation("eager")  # attention weights come only from the eager kernel
    model.train()
    image_id = tok.convert_tokens_to_ids(IMAGE_PAD)
    word_ids = torch.tensor(tok.convert_tokens_to_ids([*COLOURS, *SHAPES]))
    probe = Probe(model.config.text_config.hidden_size)
    captured: list[torch.Tensor] = []
    hook = model.model.visual.merger.register_forward_hook(lambda _m, _i, o: captured.append(o))
    params = list(model.named_parameters()) + [(f"probe.{n}", p) for n, p in probe.named_parameters()]
    opt, sched = adamw_schedule(params, lr, steps)
    watch = {size: held_out(size, n_watch, 7) for size in WATCH_SIZES}
    meta: dict[str, Any] = {
        "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "train_sizes": list(TRAIN_SIZES),
        "aux_weight": aux_weight, "attention_weight": attention_weight, "lens_weight": lens_weight,
        "lens_start": lens_start, "occlusion": occlusion, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "command": TRAIN_COMMAND, "step_offset": step_offset,
        "loss": "answer tokens + per-patch probe + attention guidance + logit-lens targets",
    }  # fmt: skip
    if init is not None:
        meta["previous"] = previous
    start, running, history = time.time(), np.zeros(4), []
    last = steps if stop_after is None else min(steps, stop_after)
    for step in range(last):
        samples = step_samples(step_offset + step, batch_size, seed, occlusion)
        batch = encode(samples, processor)
        t = targets(samples)
        captured.clear()
        outputs = model(**batch, output_attentions=attention_weight > 0)
        zero = torch.zeros(())
        parts = [outputs.loss, zero, zero, zero]
        if aux_weight > 0:
            parts[1] = probe.loss(captured[-1].view(len(samples), -1, captured[-1].shape[-1]), t)
        if attention_weight > 0:
            parts[2] = attention_loss(outputs.attentions, batch, t["attend"], image_id)
        lens_on = lens_weight if step >= lens_start * steps else 0.0
        if lens_on > 0:
            parts[3] = lens_loss(outputs.logits, batch, t["words"], word_ids, image_id)
        loss = parts[0] + aux_weight * parts[1] + attention_weight * parts[2] + lens_on * parts[3]
        loss.backward()
        optimiser_step(model, opt, sched)
        running += [float(x.detach()) for x in parts]
        if (step + 1) % log_every == 0 or step + 1 == last:
            n = step % log_every + 1
            print(json.dumps({"step": step + 1, "loss": [round(float(x) / n, 4) for x in running],
                              "lr": round(sched.get_last_lr()[0], 6),
                              "seconds": round(time.time() - start, 1)}), flush=True)  # fmt: skip
            running[:] = 0.0
        timed_out = time_limit is not None and time.time() - start > time_limit
        if (step + 1) % eval_every == 0 or step + 1 == last or timed_out:
            model.eval()
            exact = {str(size): exact_by_task(model, w, processor) for size, w in watch.items()}
            model.train()
            history.append({"step": step + 1, "seconds": round(time.time() - start, 1), "watch_exact": exact})
            print(json.dumps(history[-1]), flush=True)
            if out is not None:  # a checkpoint per evaluation; the last one is the final model
                save_checkpoint(model, processor, out, meta, step + 1, steps, start, history, attention_weight > 0)
            if timed_out:
                break
    hook.remove()
    if attention_weight > 0:
        model.set_attn_implementation("sdpa")
    model.eval()
    return model


def evaluate(path: Path, sizes: tuple[int, ...] = EVAL_SIZES, n_per_task: int = 50, stream: int = 1) -> dict:
    """Held-out exact match per input size and task of a saved model (stream ``stream``, never trained on)."""
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(path, local_files_only=True).eval()
    processor = build_processor()
    return {str(size): exact_by_task(model, held_out(size, n_per_task, stream), processor) for size in sizes}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--no-save", action="store_true", help="train without saving (pilot runs)")
    parser.add_argument("--aux-weight", type=float, default=1.0)
    parser.add_argument("--attention-weight", type=float, default=2.0)
    parser.add_argument("--lens-weight", type=float, default=0.5)
    parser.add_argument("--lens-start", type=float, default=0.5)
    parser.add_argument("--occlusion", type=float, default=0.5)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--stop-after", type=int, default=None)
    parser.add_argument("--time-limit", type=float, default=None, help="seconds; stop at the next evaluation")
    parser.add_argument("--init", type=Path, default=None, help="continue from this saved model")
    parser.add_argument("--step-offset", type=int, default=0, help="data offset for a continued run")
    parser.add_argument("--evaluate", type=Path, default=None, help="only evaluate this saved model (stream 1)")
    parser.add_argument("--n-per-task", type=int, default=50, help="with --evaluate: scenes per task and size")
    # one thread: on a machine shared with other jobs, OpenMP threads spin while the other core is taken
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.evaluate is not None:
        print(json.dumps(evaluate(args.evaluate, n_per_task=args.n_per_task)), flush=True)
        return 0
    train(
        args.steps, args.batch_size, args.lr, args.seed, None if args.no_save else args.out, args.aux_weight,
        args.attention_weight, args.lens_weight, args.lens_start, args.occlusion, args.log_every, args.eval_every,
        stop_after=args.stop_after, time_limit=args.time_limit, init=args.init, step_offset=args.step_offset,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
