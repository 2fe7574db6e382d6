import json

import numpy as np
import pytest

from xattr_lab.bench.intervention import fill_colour, intervene, main, remove, share, table
from xattr_lab.datasets import shortcut


@pytest.fixture(scope="module")
def model():
    from xattr_lab.models.loading import load_model

    return load_model("toy-shortcut", device="cpu")


@pytest.fixture(scope="module")
def held_out():
    """Ten held-out scenes with a marker (stream 99; the model trains on stream 0)."""
    return [s for s in shortcut(40, seed=99) if s.cue is not None][:10]


def test_loads_as_plain_llava(model):
    from transformers import LlavaForConditionalGeneration

    assert isinstance(model.model, LlavaForConditionalGeneration) and model.name == "toy-shortcut"
    assert model.tokenizer.convert_tokens_to_ids("none") != model.tokenizer.unk_token_id


def test_the_cue_decides_the_answer(model, held_out):
    """The planted mechanism on a few held-out scenes: removing the marker changes the answer, removing
    the named object does not (black fill, the attribution baseline)."""
    rows = intervene(model, held_out, fills=("black",))
    assert sum(r.answer == r.expected for r in rows) >= 8, [(r.answer, r.expected) for r in rows]
    assert sum(r.cue_removed["black"] != r.answer for r in rows) >= 8, rows
    assert sum(r.object_removed["black"] != r.answer for r in rows) <= 2, rows


def test_without_a_marker_the_answer_is_none(model):
    scenes = [s for s in shortcut(60, seed=98) if s.cue is None][:6]
    said = [model.generate(s.image, s.prompt, max_new_tokens=3).text for s in scenes]
    assert sum(a == "none" for a in said) >= 5, said


def test_removal_helpers():
    s = next(x for x in shortcut(20, seed=97) if x.cue is not None)
    black = remove(s, s.cue_mask, "black")
    assert (black[s.cue_mask] == 0).all() and np.array_equal(black[~s.cue_mask], s.image[~s.cue_mask])
    bg = fill_colour(s, "background")
    assert bg.min() > 150  # the scenes' backgrounds are light
    assert (remove(s, s.masks[s.target], "background")[s.masks[s.target]] == np.round(bg)).all()
    with pytest.raises(ValueError, match="fill"):
        fill_colour(s, "blue")
    assert share([True, False, True, True])["share"] == 0.75 and share([])["n"] == 0
    lo, hi = share([True] * 9 + [False])["ci95"]
    assert lo < 0.9 < hi <= 1.0


def test_table_and_cli(model, capsys):
    assert main(["--n", "4", "--seed", "5", "--fills", "black"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    t = result["table"]
    assert t["accuracy"]["n"] == 4 and "fill=black" in t and "fill=background" not in t
    assert "cue_removed_changed" in out.err
    assert table([])["accuracy"]["n"] == 0


def test_card_and_training_record_match_the_train_command():
    """``TRAIN_COMMAND`` is the command on the model card, with the settings ``training.json`` records."""
    from xattr_lab.models.toy.shortcut import TRAIN_COMMAND, WEIGHTS_DIR

    flat = " ".join((WEIGHTS_DIR / "README.md").read_text().replace("\\\n", " ").split())  # wrapped with "\"
    assert " ".join(TRAIN_COMMAND.split()) in flat
    meta = json.loads((WEIGHTS_DIR / "training.json").read_text())
    for flag, key in (("--world", "world"), ("--patch", "patch"), ("--steps", "steps"), ("--batch-size", "batch_size")):
        assert f"{flag} {meta[key]} " in TRAIN_COMMAND, flag
