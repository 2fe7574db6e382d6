import json

import pytest

from xattr_lab.bench import scorer


@pytest.mark.parametrize("arch", ["toy-shapes", "llava-1.5-tiny"])
def test_bench_scorer_runs(arch, capsys):
    assert scorer.main(["--arch", arch, "--n-masks", "8", "--repeats", "1", "--threads", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"] == arch and out["pixel_space_available"]
    rates = out["evals_per_s"]
    assert set(rates) == {
        "auto_batch_pixel_space", "auto_batch_mask_then_process", "one_per_forward_pixel_space",
        "one_per_forward_mask_then_process", "pure_batched_forward",
    }  # fmt: skip
    assert all(v > 0 for v in rates.values())
    assert out["forwards_per_call"]["auto_batch_pixel_space"] == 1
    assert out["max_abs_prob_diff_pixel_space_vs_mask_then_process"] < 1e-3
    assert out["device_name"] and out["versions"]["torch"]


def test_bench_scorer_chunks_follow_the_batch_size(capsys):
    # 8 masks at batch size 3: score() and the pure-forward ceiling both run 3 forwards per call
    assert scorer.main(["--n-masks", "8", "--batch-size", "3", "--repeats", "1", "--threads", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["batch_size"] == 3
    assert out["forwards_per_call"]["auto_batch_pixel_space"] == 3
    assert out["forwards_per_call"]["auto_batch_mask_then_process"] == 3
