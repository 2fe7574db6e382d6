"""Train a toy LLaVA on clutter WITH guidance: ``python -m xattr_lab.models.toy.guided --world clutter --guided``.

``toy-clutter-guided`` is the guided twin of ``toy-clutter`` (:mod:`xattr_lab.models.toy.answers`): the
same architecture, data stream, layout, batch and schedule, plus the three training-only terms that made the
ShapesVLM learn in a CPU budget (:mod:`xattr_lab.models.toy.train`), adapted to the clutter world:

* a per-patch probe on the projected image tokens: each patch predicts the colour, shape and size of the
  object covering most of it (or "none") and which of the 3 x 3 scene cells it lies in;
* attention guidance: the position that predicts the first answer token attends (last decoder layer, mean
  over heads) to the patches of the object(s) the answer is about: the asked-about object (colour, shape,
  position, present objects), the answer object of a relation, every counted object of a count;
* a logit-lens term: at every image token the LM head scores the colour and shape words of the objects
  under it high and the others low.

The targets come from the samples' masks, so they are ground truth by construction. They also put the
right answer into the model's internals: attention maps, TAM (logit lens at image tokens) and pointing
games are flattered on this model exactly as on the ShapesVLM. Use ``toy-clutter`` (answers alone) for
claims about what a model found by itself.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xattr_lab.datasets.scenes import COLOURS, SHAPES
from xattr_lab.models.toy.answers import (
    answer_loss,
    draw_tasks,
    encode_chat,
    evaluate_and_save,
    held_out,
    load_world,
    make_streams,
)
from xattr_lab.models.toy.clutter_guided import TRAIN_COMMAND, WEIGHTS_DIR
from xattr_lab.models.toy.train import adamw_schedule, attention_loss, lens_loss, optimiser_step

GRID = 3  # the clutter world's 3 x 3 scene cells (objects sit one per cell)
SIZE_WORDS = ("small", "large")


def patch_cover(masks: np.ndarray, patch: int) -> np.ndarray:
    """[K, P] share of each patch (reading order) covered by each object's visible mask."""
    k, h, w = masks.shape
    g = h // patch
    return masks.reshape(k, g, patch, g, patch).mean(axis=(2, 4)).reshape(k, g * g)


def patch_scene_cells(image_size: int, patch: int) -> torch.Tensor:
    """[P] the 3 x 3 scene cell (0..8, reading order) holding each patch's centre."""
    g = image_size // patch
    centre = (torch.arange(g) + 0.5) * patch
    band = torch.clamp((centre * GRID / image_size).long(), max=GRID - 1)
    return (GRID * band[:, None] + band[None, :]).flatten()


def attended_objects(s: Any) -> list[int]:
    """Indices of the objects the first answer word is about (empty: no single place to look).

    Counts parse their prompt ("how many red objects" / "how many stars"): every object with that colour or
    shape. Captions and absent objects get none.
    """
    if s.task == "count":
        words = s.prompt.split()
        if "objects" in words:  # "how many <colour> objects are there ?"
            return [i for i, o in enumerate(s.objects) if o.split()[0] == words[2]]
        return [i for i, o in enumerate(s.objects) if o.split()[1] + "s" == words[2]]
    if s.task == "caption" or s.target is None:
        return []
    return [s.target]


def guidance_targets(samples: list[Any], patch: int, min_cover: float = 0.03) -> dict[str, torch.Tensor]:
    """Per-patch training targets from the samples' masks.

    Returns ``colour``, ``shape``, ``size`` ([B, P] long, 0 = no object: the object covering most of the
    patch), ``words`` ([B, P, 9] 0/1: colour and shape words of every object covering ``min_cover`` of the
    patch, ``COLOURS`` then ``SHAPES``) and ``attend`` ([B, P] bool: patches of ``attended_objects``).
    """
    b = len(samples)
    p = (samples[0].image.shape[0] // patch) ** 2
    colours, shapes_ = list(COLOURS), list(SHAPES)
    out = {k: torch.zeros(b, p, dtype=torch.long) for k in ("colour", "shape", "size")}
    out["words"] = torch.zeros(b, p, len(colours) + len(shapes_))
    out["attend"] = torch.zeros(b, p, dtype=torch.bool)
    for i, s in enumerate(samples):
        cover = patch_cover(s.masks, patch)
        best, top = cover.argmax(axis=0), cover.max(axis=0)
        for j in np.nonzero(top >= min_cover)[0]:
            colour, shape = s.objects[best[j]].split()
            out["colour"][i, j] = colours.index(colour) + 1
            out["shape"][i, j] = shapes_.index(shape) + 1
            out["size"][i, j] = SIZE_WORDS.index(s.sizes[best[j]]) + 1 if s.sizes else 0
        for k, name in enumerate(s.objects):
            colour, shape = name.split()
            hit = torch.from_numpy(cover[k] >= min_cover)
            out["words"][i, hit, colours.index(colour)] = 1.0
            out["words"][i, hit, len(colours) + shapes_.index(shape)] = 1.0
        for k in attended_objects(s):
            out["attend"][i] |= torch.from_numpy(cover[k] > 0)
    return out


class PatchProbe(torch.nn.Module):
    """Training-only heads reading the object under each image token and the token's scene cell.

    Not part of the saved model (the ShapesVLM's ``CellProbe``, for one object per patch on a 3 x 3 scene).
    """

    def __init__(self, hidden: int, image_size: int, patch: int) -> None:
        super().__init__()
        self.register_buffer("cell", patch_scene_cells(image_size, patch), persistent=False)
        self.colour = torch.nn.Linear(hidden, len(COLOURS) + 1)
        self.shape = torch.nn.Linear(hidden, len(SHAPES) + 1)
        self.size = torch.nn.Linear(hidden, len(SIZE_WORDS) + 1)
        self.where = torch.nn.Linear(hidden, GRID * GRID)

    def loss(self, features: torch.Tensor, targets: dict[str, torch.Tensor]) -> torch.Tensor:
        """Summed cross-entropy of the heads on projected image tokens [B, P, D]."""
        ce = torch.nn.functional.cross_entropy
        flat = features.flatten(0, 1)
        cells = self.cell.expand(features.shape[0], -1).flatten()
        return (
            ce(self.colour(flat), targets["colour"].flatten())
            + ce(self.shape(flat), targets["shape"].flatten())
            + ce(self.size(flat), targets["size"].flatten())
            + ce(self.where(flat), cells)
        )


def train(
    world: str = "clutter",
    steps: int = 3500,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    out: Path | None = None,
    patch: int = 32,
    hidden: int = 128,
    aux_weight: float = 1.0,
    attention_weight: float = 2.0,
    lens_weight: float = 0.5,
    lens_start: float = 0.5,
    log_every: int = 50,
    eval_every: int = 500,
    n_eval: int = 32,
    stop_after: int | None = None,
    curriculum: str | None = None,
) -> Any:
    """Train a fresh toy LLaVA on a world's answers plus guidance and save it (see the module docstring).

    Args:
        world: dataset module under ``xattr_lab.datasets`` whose samples carry ``masks``, ``objects``,
            ``sizes``, ``target`` (``clutter``).
        steps: optimiser steps of the schedule (linear warm-up over 5%, cosine decay).
        batch_size: samples per step.
        lr: peak AdamW learning rate.
        seed: seed of the initialisation and of the task draws.
        out: directory to save into, a checkpoint at every evaluation (None: don't save).
        patch: vision patch size in pixels.
        hidden: width of both towers (2 vision layers, 3 decoder layers, 4 heads, as ``toy-clutter``).
        aux_weight: weight of the per-patch probe (0: off).
        attention_weight: weight of the attention guidance (0: off).
        lens_weight: weight of the logit-lens term (0: off).
        lens_start: fraction of the steps before the logit-lens term starts (as for the ShapesVLM).
        log_every: print a JSON line of the losses every this many steps.
        eval_every: evaluate on the fixed watch set (stream 7) and checkpoint every this many steps.
        n_eval: watch samples per task.
        stop_after: stop (and save) after this many steps of the schedule (None: the whole schedule).
        curriculum: sparser scenes and fewer tasks early on, as in :func:`xattr_lab.models.toy.answers.train`.

    Returns:
        The trained model (eval mode).
    """
    from xattr_lab.models.toy.build import build_model, build_processor

    module, generator = load_world(world)
    tasks, vocabulary, image_size = tuple(module.TASKS), tuple(module.VOCABULARY), int(module.IMAGE_SIZE)
    if image_size % patch:
        raise ValueError(f"patch: {patch} does not divide the world's image size {image_size}")
    names = list(tasks)
    torch.manual_seed(seed)
    processor = build_processor(patch, image_size, vocabulary, "question-first")
    n_image = (image_size // patch) ** 2
    model = build_model(seed, patch, image_size, vocabulary, hidden, 2, 3, 4)
    model.set_attn_implementation("eager")  # attention weights come only from the eager kernel
    model.train()
    tok = processor.tokenizer
    image_id = tok.convert_tokens_to_ids(processor.image_token)
    word_ids = torch.tensor(tok.convert_tokens_to_ids([*COLOURS, *SHAPES]))
    probe = PatchProbe(model.config.text_config.hidden_size, image_size, patch)
    captured: list[torch.Tensor] = []
    hook = model.model.multi_modal_projector.register_forward_hook(lambda _m, _i, o: captured.append(o))
    params = list(model.named_parameters()) + [(f"probe.{n}", p) for n, p in probe.named_parameters()]
    opt, sched = adamw_schedule(params, lr, steps)
    streams = make_streams(module, generator, names, steps, batch_size, curriculum)
    draw = np.random.default_rng(seed)
    watch = held_out(generator, tuple(names), n_eval, seed=7)
    meta: dict[str, Any] = {
        "world": world, "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "patch": patch,
        "layout": "question-first", "hidden": hidden, "vision_layers": 2, "text_layers": 3, "heads": 4,
        "task_weights": {t: 1 / len(names) for t in names},
        "loss": "answer tokens + per-patch probe + attention guidance + logit-lens targets",
        "aux_weight": aux_weight, "attention_weight": attention_weight, "lens_weight": lens_weight,
        "lens_start": lens_start, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "command": TRAIN_COMMAND,
    }  # fmt: skip
    if curriculum:
        meta["curriculum"] = curriculum
    start, running, history = time.time(), np.zeros(4), []
    last = steps if stop_after is None else min(steps, stop_after)
    for step in range(last):
        streams.step = step
        samples = [streams.next(str(t)) for t in draw_tasks(draw, names, None, streams, batch_size)]
        batch = encode_chat(samples, processor, n_image)
        targets = guidance_targets(samples, patch)
        captured.clear()
        outputs = model(**{k: v for k, v in batch.items() if k != "labels"}, output_attentions=attention_weight > 0)
        zero = torch.zeros(())
        parts = [answer_loss(outputs.logits, batch["labels"]), zero, zero, zero]
        if aux_weight > 0:
            parts[1] = probe.loss(captured[-1], targets)
        if attention_weight > 0:
            parts[2] = attention_loss(outputs.attentions, batch, targets["attend"], image_id)
        lens_on = lens_weight if step >= lens_start * steps else 0.0
        if lens_on > 0:
            parts[3] = lens_loss(outputs.logits, batch, targets["words"], word_ids, image_id)
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
        if (step + 1) % eval_every == 0 or step + 1 == last:  # a checkpoint per evaluation; the last is final
            evaluate_and_save(model, processor, watch, n_image, history, step + 1, steps, start, out, meta, eager=True)
    hook.remove()
    model.set_attn_implementation("sdpa")
    model.eval()
    return model


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="clutter")
    parser.add_argument("--guided", action="store_true", help="accepted for symmetry; this trainer always guides")
    parser.add_argument("--steps", type=int, default=3500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="default: the built-in toy-clutter-guided directory")
    parser.add_argument("--no-save", action="store_true", help="train without saving (pilot runs)")
    parser.add_argument("--patch", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--aux-weight", type=float, default=1.0)
    parser.add_argument("--attention-weight", type=float, default=2.0)
    parser.add_argument("--lens-weight", type=float, default=0.5)
    parser.add_argument("--lens-start", type=float, default=0.5)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--stop-after", type=int, default=None, help="stop after this many steps of the schedule")
    parser.add_argument("--threads", type=int, default=1)  # one: OpenMP threads spin on shared cores
    parser.add_argument("--curriculum", default=None, help="sparser scenes (and fewer tasks) early; see answers.py")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = None if args.no_save else (args.out or WEIGHTS_DIR)
    train(
        args.world, args.steps, args.batch_size, args.lr, args.seed, out, args.patch, args.hidden,
        args.aux_weight, args.attention_weight, args.lens_weight, args.lens_start,
        log_every=args.log_every, eval_every=args.eval_every, stop_after=args.stop_after, curriculum=args.curriculum,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
