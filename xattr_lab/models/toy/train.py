"""Train the ShapesVLM from scratch: ``python -m xattr_lab.models.toy.train [--steps N] [--out DIR]``.

Fixed seeds throughout, so a run on the same torch build reproduces the committed weights. The defaults
(3000 steps of 64 samples, one thread) took about 17 minutes on a shared 2-core machine. Loss is
next-token cross-entropy on the answer tokens only.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

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

# captions are long and compositional, so they get the largest share of the batches
TASK_WEIGHTS: dict[str, float] = {
    "caption": 0.3,
    "count": 0.15,
    "position": 0.15,
    "presence": 0.2,
    "colour": 0.1,
    "shape": 0.1,
}
IGNORE = -100


def pixel_values(images: list[np.ndarray]) -> torch.Tensor:
    """CLIP normalisation of 96-px uint8 images, identical to the saved processor (resize/crop are no-ops)."""
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def encode(
    samples: list[ShapesSample], tokenizer: PreTrainedTokenizerFast, n_image_tokens: int | None = None
) -> dict[str, torch.Tensor]:
    """Token ids ``<s> <image>*64 prompt <sep> answer </s>`` (right-padded), labels on the answer only.

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
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    lab = torch.full((len(rows), width), IGNORE)
    att = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, la) in enumerate(zip(rows, labels)):
        ids[i, : len(r)] = torch.tensor(r)
        lab[i, : len(la)] = torch.tensor(la)
        att[i, : len(r)] = 1
    return {
        "input_ids": ids,
        "attention_mask": att,
        "labels": lab,
        "pixel_values": pixel_values([s.image for s in samples]),
    }


def training_samples(step: int, batch_size: int, seed: int) -> list[ShapesSample]:
    """The batch for one step: scene seeds ``step * batch_size + i`` of stream 0, tasks drawn by weight."""
    rng = np.random.default_rng([seed, step])
    tasks = rng.choice(list(TASK_WEIGHTS), size=batch_size, p=list(TASK_WEIGHTS.values()))
    return [sample(step * batch_size + i, str(t)) for i, t in enumerate(tasks)]


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


def train(
    steps: int = 3000,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    out: Path | None = WEIGHTS_DIR,
    log_every: int = 50,
    patch: int = PATCH,
    init: Path | None = None,
    step_offset: int = 0,
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
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or "embed" in n]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.98),
    )
    warmup = max(1, steps // 20)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    # a fixed held-out batch (stream 7, never trained on) to watch progress
    held_out = [sample(7 * 1_000_003 + i, t) for i, t in enumerate(list(TASK_WEIGHTS) * 16)]
    held_batch = encode(held_out, tokenizer, n_image)
    start = time.time()
    running = 0.0
    for step in range(steps):
        batch = encode(training_samples(step_offset + step, batch_size, seed), tokenizer, n_image)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        running += loss.item()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n = (step % log_every) + 1
            print(json.dumps({"step": step + 1, "loss": round(running / n, 4),
                              "lr": round(sched.get_last_lr()[0], 6),
                              "seconds": round(time.time() - start, 1)}), flush=True)  # fmt: skip
            running = 0.0
        if (step + 1) % (4 * log_every) == 0 or step + 1 == steps:
            model.eval()
            ok = teacher_forced_exact(model, held_batch)
            model.train()
            per_task = {t: round(float(ok[i :: len(TASK_WEIGHTS)].float().mean()), 3)
                        for i, t in enumerate(TASK_WEIGHTS)}  # fmt: skip
            print(json.dumps({"step": step + 1, "held_out_exact": per_task}), flush=True)
            if out is not None:  # a checkpoint per evaluation: an interrupted run keeps its progress
                _save(model, processor, Path(out), {"step": step + 1, "held_out_exact": per_task})
    model.eval()
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out, safe_serialization=True)
        processor.save_pretrained(out)
        meta = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "patch": patch,
                "init": str(init) if init else None, "step_offset": step_offset,
                "train_seconds": round(time.time() - start, 1), "torch": torch.__version__}  # fmt: skip
        if init is not None and (Path(init) / "training.json").exists():
            meta["previous"] = json.loads((Path(init) / "training.json").read_text())
        (out / "training.json").write_text(json.dumps(meta, indent=2) + "\n")
    return model


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    # one thread: on a shared 2-core machine two OpenMP threads spin at every barrier while the other is
    # descheduled, which made steps 20x slower here; a model this small gains little from two anyway
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--patch", type=int, default=PATCH)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--init", type=Path, default=None, help="continue from this saved model")
    parser.add_argument("--step-offset", type=int, default=0, help="data offset for a continued run")
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
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
