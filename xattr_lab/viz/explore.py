"""``xattr_lab.explore(model, image, prompt)``: click a token, its explanation is computed in the kernel.

Needs a live kernel: the widget sends the selected token to Python, which runs
``xattr_lab.explain(model, image, prompt, tokens=[i])`` and replaces the view with the result (cached per
token). Without a kernel the last shown explanation still renders from the saved widget state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.widgets import XattrWidget


class Explorer(XattrWidget):
    """The widget behind :func:`explore`.

    Attributes:
        explanations: token index → Explanation, for the tokens explained so far.
        error: the last error message ("" when none).
    """

    def __init__(
        self,
        model: Any,
        image: Any,
        prompt: str,
        explain_fn: Callable[..., Any] | None = None,
        **explain_kwargs: Any,
    ) -> None:
        if explain_fn is None:
            from xattr_lab.attr.explain import explain as explain_fn

            _check_explain_kwargs(model, explain_kwargs)
        self._model, self._image, self._prompt = model, image, prompt
        self._explain = explain_fn
        self._kwargs = dict(explain_kwargs)
        self.explanations: dict[int, Any] = {}
        self.error = ""
        gen = explain_kwargs.get("generation")
        if gen is None:
            gen = model.generate(image, prompt, **_gen_kwargs(explain_kwargs))
            self._kwargs["generation"] = gen
        payload = explanation_payload(
            {
                "image": getattr(gen, "image", None) if getattr(gen, "image", None) is not None else image,
                "tokens": list(gen.generated_tokens),
                "prompt_tokens": list(gen.prompt_tokens),
            },
            title="click a token to explain it",
        )
        super().__init__(payload=payload, status="click a token to explain it")
        self.observe(self._on_select, names="selected")

    def _on_select(self, change: dict[str, Any]) -> None:
        token = int(change["new"])
        if token < 0:
            return
        self.show(token)

    def show(self, token: int) -> Any:
        """Explain generated token ``token`` (cached) and show it; returns the Explanation."""
        result = self.explanations.get(token)
        if result is None:
            self.status = f"computing token {token}…"
            try:
                result = self._explain(self._model, self._image, self._prompt, tokens=[token], **self._kwargs)
            except Exception as err:  # shown in the widget: the kernel keeps running
                self.error = f"{type(err).__name__}: {err}"
                self.status = f"token {token} failed: {self.error}"
                return None
        partial = bool(getattr(result, "partial", False))
        if not partial:  # an interrupted (partial) result is shown but not cached: a click recomputes it
            self.explanations[token] = result
        self.payload = explanation_payload(result.to_view_data(), title=repr(result))
        self.status = f"token {token} interrupted: partial result, click again to recompute" if partial else ""
        return result


def _check_explain_kwargs(model: Any, kwargs: dict[str, Any]) -> None:
    """Check now what ``explain`` would refuse at the first click: the method, its needs, the search, seed."""
    from xattr_lab.attr.arguments import check_generation, check_method_name, check_seed, check_target
    from xattr_lab.attr.registry import get_method
    from xattr_lab.attr.search import SEARCHES

    if "tokens" in kwargs:
        raise TypeError("tokens: explore() explains the token you click; do not pass tokens")
    spec = get_method(check_method_name(kwargs.get("method", "eagle")))
    missing = set(spec.needs) - set(getattr(model, "capabilities", frozenset()))
    if missing:
        raise ValueError(f"method: {spec.name!r} needs model capabilities {sorted(missing)} that this model lacks")
    search = kwargs.get("search")
    if search is not None and search not in SEARCHES:
        raise ValueError(f"search: unknown search {search!r}; expected one of {sorted(SEARCHES)}")
    check_seed(kwargs.get("seed", 0))
    check_target(kwargs.get("target"))
    check_generation(kwargs.get("generation"))


def _gen_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"max_new_tokens": kwargs["max_new_tokens"]} if "max_new_tokens" in kwargs else {}


def explore(model: Any, image: Any, prompt: str, **explain_kwargs: Any) -> Explorer:
    """An interactive explanation: click a generated token to explain it (needs a live kernel).

    Args:
        model: a ScoringModel.
        image: the image (uint8 [H, W, 3]).
        prompt: the prompt text.
        **explain_kwargs: passed to :func:`xattr_lab.explain` (``method``, ``regions``, ``search`` …).

    Returns:
        The widget; ``widget.explanations`` holds the Explanations computed so far.

    Raises:
        ValueError: an unknown ``method`` or ``search``, or a method that needs what the model lacks (checked
            here, not at the first click).
        TypeError: a ``method`` that is not a name, a ``tokens`` argument (the click picks the token).
    """
    return Explorer(model, image, prompt, **explain_kwargs)
