import json
import math

import numpy as np
import pytest

from xattr_lab.bench._common import SUITES, held_out_questions, leaderboard, render_leaderboard
from xattr_lab.cli import main


def test_held_out_questions_are_per_task_and_shortcut_keeps_cue_scenes():
    shapes = held_out_questions(3, 1, ["colour", "shape"], "shapes")
    assert [s.task for s in shapes] == ["colour"] * 3 + ["shape"] * 3
    cues = held_out_questions(6, 1, ["colour"], "shortcut")
    assert len(cues) == 6 and all(s.cue_mask.any() for s in cues)
    clutter = held_out_questions(1, 1, list(SUITES["clutter"].tasks), "clutter")
    assert [s.task for s in clutter] == list(SUITES["clutter"].tasks)
    assert clutter[0].image.shape == (160, 160, 3)


def test_clutter_balanced_suite_draws_the_balanced_clutter_questions():
    from xattr_lab.datasets import clutter

    suite = SUITES["clutter_balanced"]
    assert suite.dataset == "clutter" and suite.balanced and not suite.caption
    drawn = held_out_questions(2, 1, list(suite.tasks), "clutter_balanced")
    assert [s.task for s in drawn] == ["colour", "colour", "shape", "shape"]
    expected = [*clutter(2, seed=100, task="colour", balanced=True), *clutter(2, seed=101, task="shape", balanced=True)]
    assert [s.seed for s in drawn] == [s.seed for s in expected]
    assert all(np.array_equal(a.image, b.image) and a.prompt == b.prompt for a, b in zip(drawn, expected))


def _runs(eagle, other, random):
    rows = lambda ins: [{"insertion_auc": v, "deletion_auc": 1 - v} for v in ins]  # noqa: E731
    return {"eagle": rows(eagle), "saliency": rows(other), "random": rows(random)}


def test_leaderboard_pairs_every_method_with_eagle():
    board = leaderboard(_runs([0.9, 0.8, 0.7, 0.9], [0.6, 0.9, 0.5, 0.9], [0.3, 0.2, 0.4, 0.3]), n_boot=200)
    assert board["ci"]["eagle"]["insertion_auc"]["mean"] == pytest.approx(0.825)
    pair = board["vs_eagle"]["saliency"]["insertion_auc"]
    assert pair["diff"] == pytest.approx((-0.3 + 0.1 - 0.2 + 0.0) / 4)
    assert pair["win_rate"] == pytest.approx((1 + 0.5) / 4)  # one win, one tie
    dele = board["vs_eagle"]["saliency"]["deletion_auc"]  # lower deletion wins: the same scene wins
    assert dele["win_rate"] == pytest.approx((1 + 0.5) / 4)
    assert "eagle" not in board["vs_eagle"] and board["saturation"]["warnings"] == []


def test_leaderboard_saturation_guard_and_its_text():
    board = leaderboard(_runs([0.95, 0.97], [0.93, 0.96], [0.8, 0.7]), n_boot=100)
    sat = board["saturation"]
    assert sat["random_insertion_auc"] == pytest.approx(0.75)
    assert sat["spread"] == pytest.approx(0.015) and len(sat["warnings"]) == 2
    text = render_leaderboard(board, "title")
    assert text.count("WARNING") == 2 and "0.750" in text and "paired against eagle" in text


def test_leaderboard_without_eagle_has_no_pairs_and_nan_rows_are_left_out():
    board = leaderboard({"random": [{"insertion_auc": 0.5}, {"insertion_auc": math.nan}]}, n_boot=50)
    assert board["vs_eagle"] == {} and board["ci"]["random"]["insertion_auc"]["n"] == 1


def test_bench_faithfulness_suite_shapes_runs_with_intervals(capsys):
    args = ["bench", "faithfulness", "--suite", "shapes", "--n", "2", "--methods", "eagle", "--regions", "grid:4",
            "--threads", "1", "--n-boot", "100"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["suite"] == "shapes" and out["model"] == "toy-shapes" and out["n"] == 4
    assert {t: v["n"] for t, v in out["by_task"].items()} == {"colour": 2, "shape": 2}
    ins = out["ci"]["eagle"]["insertion_auc"]
    assert ins["n"] == 4 and ins["low"] <= ins["mean"] <= ins["high"]
    assert out["methods"]["eagle"]["insertion_auc"] == ins["mean"]
    assert "bench faithfulness --suite shapes" in out["command"]
    assert "saturation guard" in captured.err and "[95% bootstrap CI" in captured.err


def test_bench_faithfulness_suite_shortcut_scores_cue_pointing(capsys):
    args = ["bench", "faithfulness", "--suite", "shortcut", "--n", "2", "--methods", "random", "--regions", "grid:4",
            "--threads", "1", "--n-boot", "50"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "toy-shortcut" and out["n"] == 2
    ci = out["ci"]["random"]
    assert ci["pointing_cue"]["n"] == 2 and ci["pointing_mask"]["n"] == 2
    assert np.isfinite(out["saturation"]["random_insertion_auc"])


@pytest.mark.parametrize(
    "bench, extra",
    [("faithfulness", ["--suite", "mnist"]), ("compare", ["--suite", "mnist"]), ("faithfulness", ["--tasks", "xyz"]),
     ("compare", ["--suite", "shortcut", "--tasks", "shape"]), ("search", ["--suite", "nope"])],
)  # fmt: skip
def test_bench_suite_arguments_are_checked(bench, extra):
    with pytest.raises(SystemExit):
        main(["bench", bench, *extra])


def test_pointing_ceiling_says_when_a_region_can_be_mostly_inside_the_evidence():
    from types import SimpleNamespace

    from xattr_lab.bench._common import pointing_ceiling

    cue = np.zeros((96, 96), dtype=bool)
    cue[0:12, 0:12] = True  # exactly one cell of an 8 x 8 grid
    obj = np.zeros((96, 96), dtype=bool)
    obj[48:96, 48:96] = True  # one cell of a 2 x 2 grid
    s = SimpleNamespace(image=np.zeros((96, 96, 3), np.uint8), seed=0, masks=obj[None], target=0, cue_mask=cue)
    assert pointing_ceiling("grid:8x8", s, cue=True) == {"mask": 1.0, "cue": 1.0}
    assert pointing_ceiling("grid:2x2", s, cue=True) == {"mask": 1.0, "cue": 0.0}
    none = SimpleNamespace(**{**vars(s), "target": None, "cue_mask": np.zeros_like(cue)})
    assert all(math.isnan(v) for v in pointing_ceiling("grid:2x2", none, cue=True).values())


def test_compare_claims_by_interval_hold_fail_tie():
    from xattr_lab.bench.compare import _claims

    summary = {
        "eagle": {"insertion_auc": 0.9, "deletion_auc": 0.1},
        "saliency": {"insertion_auc": 0.8, "deletion_auc": 0.1},
    }
    pair = lambda lo, hi: {"diff": (lo + hi) / 2, "low": lo, "high": hi, "win_rate": 0.5, "n": 10}  # noqa: E731
    got = _claims(summary, {"saliency": {"insertion_auc": pair(-0.2, -0.05), "deletion_auc": pair(1e-7, 2e-7)}})
    assert got["eagle_vs_captum_ci"]["saliency"] == {"insertion": "holds", "deletion": "tie"}
    got = _claims(summary, {"saliency": {"insertion_auc": pair(0.01, 0.1), "deletion_auc": pair(-0.1, 0.1)}})
    assert got["eagle_vs_captum_ci"]["saliency"] == {"insertion": "fails", "deletion": "undecided"}
    assert got["eagle_vs_captum"]["saliency"] == {"insertion_geq": True, "deletion_leq": True}
