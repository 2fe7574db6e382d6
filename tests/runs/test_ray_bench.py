"""``xattr-lab bench run``: the GPU figure is refused clearly without CUDA; the row comparison it reports."""

from __future__ import annotations

import pytest

from xattr_lab.bench.run_bench import _same
from xattr_lab.cli import main
from xattr_lab.runs.work import UnitOutcome


def test_llava_7b_without_cuda_says_why_and_what_to_do(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: the 7B bench would run")
    assert main(["bench", "run", "--arch", "llava-1.5-7b"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA device" in err and "llava-1.5-tiny" in err and "Traceback" not in err


def test_rows_compare_on_every_column_but_wall_time():
    nan = float("nan")
    a = [UnitOutcome("0/eagle", {"insertion_auc": 0.5, "pointing_box": nan, "seconds": 1.0}, "p")]
    b = [UnitOutcome("0/eagle", {"insertion_auc": 0.5, "pointing_box": nan, "seconds": 9.0}, "q")]
    assert _same(a, b)
    c = [UnitOutcome("0/eagle", {"insertion_auc": 0.51, "pointing_box": nan, "seconds": 1.0}, "p")]
    assert not _same(a, c)
    assert not _same(a, [UnitOutcome("1/eagle", a[0].row, "p")])
