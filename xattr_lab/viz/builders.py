"""Payload builders for each result type, registered with :mod:`xattr_lab.viz.bundle`.

Each builder reads the result's ``to_view_data()`` (plain numpy arrays and lists) and tolerates missing
optional keys, so results can grow fields without breaking their display.
"""

from __future__ import annotations

from typing import Any

from xattr_lab.viz.bundle import register_payload_builder
from xattr_lab.viz.comparison_view import comparison_payload, token_metrics
from xattr_lab.viz.explanation_view import explanation_payload
from xattr_lab.viz.spectrum_view import spectrum_payload
from xattr_lab.viz.token_strip import token_strip_payload
from xattr_lab.viz.training_view import training_payload


def _view_data(result: Any) -> dict[str, Any]:
    fn = getattr(result, "to_view_data", None)
    if not callable(fn):
        raise TypeError(f"result: {type(result).__name__} has no to_view_data()")
    return dict(fn())


def build_explanation(result: Any) -> dict[str, Any]:
    """Payload of an Explanation (the frames view for one made by ``explain_frames``)."""
    info = getattr(result, "info", None)
    if isinstance(info, dict) and isinstance(info.get("frames"), dict):
        from xattr_lab.viz.frames_view import frames_payload

        return frames_payload(result)
    data = _view_data(result)
    data.setdefault("cost", getattr(result, "cost", None))
    return explanation_payload(data)


def build_spectrum(result: Any) -> dict[str, Any]:
    """Payload of a SpectrumReport (every head's logits when they fit the budget)."""
    return spectrum_payload(_view_data(result), all_logits=getattr(result, "mean_logits", None))


def build_training(result: Any) -> dict[str, Any]:
    """Payload of a TrainingRun."""
    return training_payload(_view_data(result))


def build_comparison(result: Any) -> dict[str, Any]:
    """Payload of a Comparison (with each method's per-token figures for the token strip)."""
    data = _view_data(result)
    data.setdefault("token_metrics", token_metrics(getattr(result, "explanations", ())))
    return comparison_payload(data)


def build_text_attribution(result: Any) -> dict[str, Any]:
    """Payload of a TextAttribution: a token strip with its score legend."""
    data = _view_data(result)
    return token_strip_payload(
        data["tokens"], data["scores"], score_label=data["score_label"], title=data["title"],
        unscored_label="not scored (the explained token, image tokens)",
    )


register_payload_builder("Explanation", build_explanation)
register_payload_builder("SpectrumReport", build_spectrum)
register_payload_builder("TrainingRun", build_training)
register_payload_builder("Comparison", build_comparison)
register_payload_builder("TextAttribution", build_text_attribution)
