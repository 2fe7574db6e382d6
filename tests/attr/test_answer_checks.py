"""``target=`` and ``contrast=`` share their shape checks (``answer_ids``); each keeps its own id messages."""

from __future__ import annotations

import numpy as np
import pytest

from xattr_lab.attr.arguments import answer_ids, check_target
from xattr_lab.attr.contrast import check_contrast


def test_answer_ids_reads_texts_lists_and_arrays_and_names_the_argument():
    assert answer_ids("red", "target") is None
    assert answer_ids((4, 5), "target") == [4, 5]
    assert answer_ids(range(2), "contrast") == [0, 1]
    assert answer_ids(np.array([7, 8]), "target") == [7, 8]
    for name in ("target", "contrast"):
        with pytest.raises(ValueError, match=f"^{name}: expected a non-empty answer text"):
            answer_ids(" ", name)
        with pytest.raises(ValueError, match=f"^{name}: expected at least one token id"):
            answer_ids([], name)
        with pytest.raises(TypeError, match=f"^{name}: expected a str or a list of token ids, got float"):
            answer_ids(2.5, name)
    with pytest.raises(ValueError, match=r"^target: expected a 1-D sequence of token ids, got shape \(2, 2\)"):
        answer_ids(np.zeros((2, 2), dtype=int), "target")
    # contrast's rule: whatever has tolist() is read through it (a 2-D array gives rows, refused item by item)
    assert answer_ids(np.zeros((1, 2), dtype=int), "contrast", arrays_1d=False) == [[0, 0]]


def test_target_and_contrast_keep_their_own_errors_for_bad_ids():
    with pytest.raises(ValueError, match="target: token ids must be >= 0, got -1 at index 1"):
        check_target([3, -1])
    with pytest.raises(TypeError, match=r"contrast: expected token ids \(ints >= 0\), got -2 at index 1"):
        check_contrast([1, -2], "eagle", {})
    with pytest.raises(TypeError, match="target: expected token ids .*str 'red' at index 0"):
        check_target(["red"])
    with pytest.raises(TypeError, match=r"contrast: expected token ids \(ints >= 0\), got \[0, 0\] at index 0"):
        check_contrast(np.zeros((1, 2), dtype=int), "eagle", {})
    with pytest.raises(ValueError, match="contrast: expected at least one token id"):
        check_contrast(np.array([], dtype=int), "eagle", {})
    assert check_target(None) is None and check_contrast(None, "tam", {}) is None
    assert check_target(np.array([1, 2])) is None and check_contrast("blue", "eagle", {}) is None
