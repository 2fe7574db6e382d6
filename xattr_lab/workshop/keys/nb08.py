"""Answer key for notebooks/08_bring_your_own_model.ipynb."""

from __future__ import annotations

from typing import Any

from xattr_lab.workshop.answers import Choice, Computed, Number
from xattr_lab.workshop.exercise import Exercise

DTYPES = ("float32", "bfloat16", "float16")


def _dtype_name(model: Any) -> str:
    return str(next(model.model.parameters()).dtype).removeprefix("torch.")


EXERCISES = (
    Exercise(
        id="08.1",
        question="Offline, empty cache: what does load_model('llava-hf/llava-1.5-7b-hf') do?",
        answer=Choice(
            ("downloads it", "raises a ValueError", "loads a random model"),
            "raises a ValueError",
            close={"downloads it": "the machine has no internet, and xattr_lab never downloads anyway."},
        ),
        hint="xattr_lab looks only at the built-in models, local directories and the local cache.",
        explanation="It raises a ValueError at once, naming the ways out: `hf download …` on a machine with "
        "internet, or a local directory. Nothing is ever downloaded at run time.",
    ),
    Exercise(
        id="08.2",
        question="How many GB do the weights of a 7-billion-parameter model take in bfloat16?",
        answer=Number(14.0, tol=1.5, close_tol=4.0),
        hint="bfloat16 is 16 bits per parameter.",
        explanation="7e9 parameters x 2 bytes = 14 GB (13 GiB); float32 doubles it to 28 GB.",
    ),
    Exercise(
        id="08.3",
        question="Which dtype does load_model choose on a CPU-only machine?",
        answer=Computed(("model",), _dtype_name, options=DTYPES),
        hint="Which dtype do CPU matrix kernels handle fast and everywhere?",
        explanation="float32 on a CPU (bfloat16 matmuls are slow on most CPUs); bfloat16 on CUDA. Pass dtype= "
        "to override.",
    ),
)
