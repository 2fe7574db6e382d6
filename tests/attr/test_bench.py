import json

from xattr_lab.cli import main


def test_bench_search_prints_counts(capsys):
    assert (
        main(
            [
                "bench",
                "search",
                "--sizes",
                "16",
                "--settings",
                "naive,bidirectional_reference,efficient_8_4_10",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    row = out["rows"][0]
    assert row["n_regions"] == 16 and row["settings"]["naive"]["forwards"] == 16 * 17
    assert row["settings"]["bidirectional_reference"]["forwards"] < 16 * 17
    assert row["settings"]["efficient_8_4_10"]["speedup_vs_naive"] > 1


def test_bench_search_rejects_unknown_setting(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "search", "--settings", "beam"])


def test_bench_faithfulness_runs_mechanically(capsys):
    # The synthetic model ignores the scenes; this checks the plumbing and the JSON, not the numbers.
    args = ["bench", "faithfulness", "--model", "synthetic", "--n", "2", "--regions", "grid:4", "--search", "efficient"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["methods"]) == {"eagle", "random"}
    assert {"insertion_auc", "deletion_auc", "pointing_mask", "forwards", "seconds"} <= set(out["methods"]["eagle"])
