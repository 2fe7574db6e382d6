import json

import pytest

from xattr_lab.bench import hallucination


def test_absent_questions_are_the_presence_streams_absent_ones():
    qs = hallucination.absent_questions("clutter", 12, seed=1)
    assert qs and all(q.absent and q.task == "presence" for q in qs)
    assert [q.seed for q in qs] == [q.seed for q in hallucination.absent_questions("clutter", 12, seed=1)]


def test_bench_scores_the_wrong_answers_of_the_guided_clutter_model(capsys):
    assert hallucination.main(["--n", "8", "--regions", "grid:2", "--methods", "random", "--search", "efficient"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "toy-clutter-guided" and 0 < out["absent_wrong"] <= out["absent"]
    scores = out["methods"]["random"]
    assert scores["n"] == out["absent_wrong"] and len(scores["areas"]) == out["absent_wrong"]
    assert all(0.0 <= a <= 1.0 for a in scores["areas"]) and 0.0 <= scores["amcr"] <= 1.0
    assert out["command"].startswith("xattr-lab bench hallucination --suite clutter")
    assert out["command"].endswith("--search efficient") and out["search"] == "efficient"  # the command reproduces it


@pytest.mark.parametrize("args", [["--suite", "nope"], ["--n", "0"], ["--seed", "0"], ["--methods", "eagel"]])
def test_bad_arguments_exit_2(args):
    with pytest.raises(SystemExit) as err:
        hallucination.main(args)
    assert err.value.code == 2
