"""``xattr-lab bench tam``: TAM vs TAM+MSEA+ARC at native input sizes (parsing, verdicts, a tiny end-to-end run)."""

from __future__ import annotations

import json

import pytest

from xattr_lab.bench.tam_native import main, parse_sizes, verdict, word_roles


def test_parse_sizes():
    assert parse_sizes("96,128, 160") == [96, 128, 160]
    for bad in ("", "ninety", "8", "96,,x"):
        with pytest.raises(ValueError, match="--sizes"):
            parse_sizes(bad)


def test_word_roles_split_a_caption():
    words = "a red circle top left and a blue star bottom right".split()
    obj, idx, func = word_roles(words, ("red circle", "blue star"))
    assert [words[p] for p in obj] == ["red", "circle", "blue", "star"] and idx == [0, 0, 1, 1]
    assert [words[p] for p in func] == ["a", "and", "a"]
    obj, idx, _ = word_roles(words, ("red circle", "blue star"), "nouns")
    assert [words[p] for p in obj] == ["circle", "star"] and idx == [0, 1]
    with pytest.raises(ValueError, match="object_words"):
        word_roles(words, ("red circle",), "adjectives")


def test_verdict_reads_the_interval():
    assert verdict({"diff": 0.1, "low": 0.02, "high": 0.2, "n": 10}) == "holds"
    assert verdict({"diff": -0.1, "low": -0.2, "high": -0.01, "n": 10}) == "fails"
    assert verdict({"diff": 0.01, "low": -0.02, "high": 0.05, "n": 10}) == "undecided"
    assert verdict(None) == "undecided"


def test_bad_arguments_exit_2():
    for argv in (["--sizes", "x"], ["--n", "0"], ["--stream", "0"], ["--scales", "0,1"]):
        with pytest.raises(SystemExit) as err:
            main(argv)
        assert err.value.code == 2


@pytest.mark.parametrize(("model", "size", "grid"), [("toy-shapes-native", 48, [3, 3]), ("toy-shapes", 128, [6, 6])])
def test_tiny_run_prints_figures_and_pairs(model, size, grid, capsys):
    """One scene per size: the JSON carries every metric per method, TAM pairs and the token grid used."""
    args = ["--model", model, "--sizes", str(size), "--n", "1", "--methods", "tam,tam_msea_arc", "--n-boot", "50"]
    assert main([*args, "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    per = result["per_size"][str(size)]
    assert per["grid"] == grid  # native: 48 px -> 3 x 3 tokens; the ShapesVLM resizes everything to 6 x 6
    for m in ("tam", "tam_msea_arc"):
        for k in ("obj_iou", "func_iou", "f1_iou"):
            assert 0.0 <= per["ci"][m][k]["mean"] <= 1.0
    pair = per["vs_tam"]["tam_msea_arc"]["f1_iou"]
    diff = per["ci"]["tam_msea_arc"]["f1_iou"]["mean"] - per["ci"]["tam"]["f1_iou"]["mean"]
    assert pair["diff"] == pytest.approx(diff, abs=1e-9)
    assert per["claim_tam_msea_arc_beats_tam"] in ("holds", "fails", "undecided")
    assert 0.0 <= per["ci"]["tam"]["flat_maps"]["mean"] <= 1.0
    assert f"at {size} px" in err and "tam_msea_arc - tam" in err
