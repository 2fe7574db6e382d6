"""The contract between models and methods: ``Generation`` and the ``ScoringModel`` protocol.

A method never touches a processor or tokenizer. It asks a ScoringModel for the probabilities of target
tokens under teacher forcing, for a batch of image masks or text variants, and for white-box internals
where it needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class Generation:
    """One image + prompt and the tokens a model produced (or was given) for it.

    Attributes:
        image: the input image as a uint8 array [H, W, 3] (RGB), at the resolution regions are drawn on.
        prompt: the user prompt text (before any chat template).
        input_ids: the full processed sequence the model saw before generating, [L_in] (chat template,
            image tokens and all).
        generated_ids: the generated (or given, see ``target``) token ids, [T].
        prompt_tokens: display strings of the prompt tokens a user would care about (image-token runs
            collapsed into one ``<image>`` entry).
        generated_tokens: display strings of the generated tokens, [T].
        image_token_span: (start, end) of the image tokens inside ``input_ids`` (end exclusive); for models
            with several image-token runs, the outer bounds.
        geometry: the processed image geometry (for example ``{"height": 96, "width": 96, "patch": 12}``).
        model_id: a name of the model that produced it.
        is_target: True when ``generated_ids`` were given by the user rather than generated.
    """

    image: np.ndarray
    prompt: str
    input_ids: torch.Tensor
    generated_ids: torch.Tensor
    prompt_tokens: tuple[str, ...]
    generated_tokens: tuple[str, ...]
    image_token_span: tuple[int, int]
    geometry: dict[str, Any] = field(default_factory=dict)
    model_id: str = ""
    is_target: bool = False

    @property
    def n_generated(self) -> int:
        """Number of generated tokens ``T``."""
        return len(self.generated_tokens)

    @property
    def text(self) -> str:
        """The generated text (tokens joined with spaces where the tokenizer is word-level)."""
        return " ".join(t.strip() for t in self.generated_tokens if t.strip())


@runtime_checkable
class ScoringModel(Protocol):
    """What every model adapter offers to methods.

    Attributes:
        n_forward: number of model forward passes made so far (methods report cost from it).
        name: a short model name.
        capabilities: what the adapter offers beyond black-box scores, from
            ``{"scores", "text", "gradients", "hidden_states", "attention"}``.
    """

    n_forward: int
    name: str
    capabilities: frozenset[str]

    def generate(self, image: Any, prompt: str, max_new_tokens: int = 16) -> Generation:
        """Generate greedily from ``image`` and ``prompt``."""
        ...

    def with_target(self, gen: Generation, target: str | list[int]) -> Generation:
        """Return ``gen`` with its generated tokens replaced by ``target`` (text or ids), for counterfactuals."""
        ...

    def score(
        self,
        gen: Generation,
        masks: torch.Tensor | np.ndarray,
        positions: list[int] | None = None,
        baseline: str | float = "black",
    ) -> torch.Tensor:
        """Probabilities [B, T] of the generated tokens at ``positions`` (all by default) under teacher forcing.

        ``masks`` is [B, H, W] at the image's resolution, 1 keeps a pixel and 0 replaces it by ``baseline``.
        """
        ...

    def score_text(self, gen: Generation, variants: list[str], positions: list[int] | None = None) -> torch.Tensor:
        """Probabilities [B, T] of the generated tokens when the prompt is replaced by each variant."""
        ...


@runtime_checkable
class WhiteBoxModel(ScoringModel, Protocol):
    """Optional white-box access offered by the transformers adapter (``"gradients"``, ``"hidden_states"``).

    Gradient methods differentiate :meth:`pixel_forward` (w.r.t. the processed pixels) or
    :meth:`score_features` (w.r.t. the image features the decoder reads); TAM-style maps use
    :meth:`logit_lens`.
    """

    def processed_pixels(self, gen: Generation, baseline: Any = None) -> torch.Tensor:
        """The processed pixel tensor of ``gen``'s image (or of ``baseline``), batch dim first."""
        ...

    def pixel_forward(
        self, gen: Generation, pixel_values: torch.Tensor, positions: list[int] | None = None
    ) -> torch.Tensor:
        """Differentiable probabilities [B, K] from a batch of processed pixel tensors."""
        ...

    def image_features(self, gen: Generation) -> torch.Tensor:
        """The image features [N_img, D] the decoder receives at the image tokens."""
        ...

    def score_features(
        self, gen: Generation, features: torch.Tensor, positions: list[int] | None = None
    ) -> torch.Tensor:
        """Differentiable probabilities [B, K] with the image features set to ``features`` [B, N_img, D]."""
        ...

    def hidden_states(self, gen: Generation) -> tuple[torch.Tensor, ...]:
        """Decoder hidden states over the teacher-forced sequence, one [L, D] per layer (embeddings first)."""
        ...

    def image_hidden_states(self, gen: Generation, layer: int = -1) -> torch.Tensor:
        """Hidden states [N_img, D] at the image tokens after decoder layer ``layer``."""
        ...

    def logit_lens(
        self, gen: Generation, layer: int = -1, positions: list[int] | None = None, tokens: str = "image"
    ) -> torch.Tensor:
        """Logit-lens logits [K, N] of the target tokens read out at the image tokens (or all tokens)."""
        ...
