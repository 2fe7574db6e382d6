"""A tiny text LM, built from a config and trained in seconds, that shows SMA end to end offline.

Sequences read ``ctx <colour|none> q <name> a <answer> .``. Six names have a fixed favourite colour the model
must memorise (pre-training; their context is ``none`` or agrees); six others get a random colour that only
the context gives (retrieval). :func:`demo` asks about one name of each kind and labels the answers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MEMORISED = ("alex", "bella", "carl", "dana", "eric", "fay")
RETRIEVED = ("gus", "hana", "ivan", "june", "kai", "lena")
COLOURS = ("red", "blue", "green", "yellow", "purple", "orange")
VOCAB = ("<pad>", "ctx", "none", "q", "a", ".", *COLOURS, *MEMORISED, *RETRIEVED)
FACTS = dict(zip(MEMORISED, COLOURS))


def _sequence(rng: np.random.Generator) -> list[str]:
    if rng.random() < 0.5:
        name = str(rng.choice(MEMORISED))
        answer = FACTS[name]
        ctx = answer if rng.random() < 0.5 else "none"
    else:
        name = str(rng.choice(RETRIEVED))
        answer = ctx = str(rng.choice(COLOURS))
    return ["ctx", ctx, "q", name, "a", answer, "."]


class ToyTextLM:
    """The trained tiny GPT-2 with a word-level vocabulary and a ``score_fn`` for :func:`~xattr_lab.attr.sma.sma`."""

    def __init__(self, steps: int = 300, seed: int = 0) -> None:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel

        torch.manual_seed(seed)
        config = GPT2Config(
            vocab_size=len(VOCAB), n_positions=16, n_embd=64, n_layer=2, n_head=4, pad_token_id=0, bos_token_id=0,
            eos_token_id=0,
        )  # fmt: skip
        self.model = GPT2LMHeadModel(config)
        self.index = {w: i for i, w in enumerate(VOCAB)}
        rng = np.random.default_rng(seed)
        opt = torch.optim.AdamW(self.model.parameters(), lr=3e-3)
        self.model.train()
        for _ in range(steps):
            ids = torch.tensor([self.encode(_sequence(rng)) for _ in range(64)])
            loss = self.model(input_ids=ids, labels=ids).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.model.eval()
        self.loss = float(loss.detach())

    def encode(self, words: list[str]) -> list[int]:
        """Token ids of words (unknown words raise ValueError)."""
        unknown = [w for w in words if w not in self.index]
        if unknown:
            raise ValueError(f"words: not in the toy vocabulary: {unknown}")
        return [self.index[w] for w in words]

    def answer(self, prompt: str) -> str:
        """The greedy next word after ``prompt``."""
        import torch

        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor([self.encode(prompt.split())])).logits[0, -1]
        return VOCAB[int(logits.argmax())]

    def score_fn(self, outputs: list[str]) -> Any:
        """``texts → probabilities [B, O]`` of ``outputs`` continuing each text (teacher-forced)."""
        import torch

        out_ids = self.encode(outputs)

        def score(texts: list[str]) -> np.ndarray:
            rows = []
            with torch.no_grad():
                for text in texts:
                    ids = self.encode(text.split()) + out_ids
                    logp = torch.log_softmax(self.model(input_ids=torch.tensor([ids])).logits[0], -1)
                    start = len(ids) - len(out_ids)
                    rows.append([float(logp[start - 1 + k, t].exp()) for k, t in enumerate(out_ids)])
            return np.asarray(rows)

        return score


def demo(steps: int = 300, n: int = 64, seed: int = 0) -> dict[str, Any]:
    """Train the toy LM, then label the answers for a memorised and a retrieved name.

    Returns:
        ``{"memorised": SourceAttribution, "retrieved": SourceAttribution, "loss": final training loss}``.
    """
    from xattr_lab.attr.sma import Source, sma

    lm = ToyTextLM(steps=steps, seed=seed)
    out: dict[str, Any] = {"loss": lm.loss}
    for kind, name, colour in (("memorised", "alex", FACTS["alex"]), ("retrieved", "kai", "green")):
        sources = [
            Source("passage", f"ctx {colour}", retrieved=True, off="ctx none"),
            Source("question", f"q {name} a"),
        ]
        answer = lm.answer(f"ctx {colour} q {name} a")
        out[kind] = sma(lm.score_fn([answer, "."]), sources, [answer, "."], n=n, seed=seed)
    return out


__all__ = ["ToyTextLM", "demo"]
