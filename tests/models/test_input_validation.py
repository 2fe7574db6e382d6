"""Silent wrong answers and deep failures become clear errors at the model boundary (issue 14, item 6).

Each bad value is refused with a ValueError or TypeError naming the argument, before transformers, a
tokenizer or torch sees it.
"""

import os

import numpy as np
import pytest
import torch

from xattr_lab.models.classifier import ClassifierScoringModel
from xattr_lab.models.hf import HFScoringModel
from xattr_lab.models.images import as_rgb_array
from xattr_lab.models.loading import load_model

PROMPT = "what colour is the square ?"


@pytest.fixture(scope="module")
def case(toy):
    img = np.zeros((96, 96, 3), np.uint8)
    img[30:60, 30:60, 0] = 255
    return toy, img, toy.generate(img, PROMPT, max_new_tokens=2)


# ---------------------------------------------------------------------------------------------------------
# load_model and the adapters' constructors
@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-3, ValueError), (True, TypeError), (False, TypeError),
                                      (2.5, TypeError), ("8", TypeError)])  # fmt: skip
def test_load_model_refuses_bad_batch_size(bad, exc):
    with pytest.raises(exc, match="batch_size"):
        load_model("toy-shapes", device="cpu", batch_size=bad)


def test_batch_size_accepted_and_checked_everywhere(toy):
    model = load_model((toy.model, toy.processor), batch_size=np.int64(3))
    assert model.batch_size == 3  # numpy ints are ints
    with pytest.raises(ValueError, match="batch_size"):
        HFScoringModel(toy.model, toy.processor, batch_size=0)  # the default (64) no longer hides a 0
    with pytest.raises(TypeError, match="batch_size"):
        model.batch_size = True
    with pytest.raises(ValueError, match="batch_size"):
        ClassifierScoringModel(torch.nn.Identity(), ["a", "b"], batch_size=0)


@pytest.mark.parametrize("spec", ["", "   "])
def test_load_model_refuses_an_empty_name(spec, tmp_path, monkeypatch):
    # the working directory holds a model: an empty name must still not load it
    from transformers import AutoModelForImageTextToText

    monkeypatch.chdir(tmp_path)
    called = []
    monkeypatch.setattr(AutoModelForImageTextToText, "from_pretrained", lambda *a, **k: called.append(a))
    with pytest.raises(ValueError, match="spec: got an empty name"):
        load_model(spec)
    assert not called


@pytest.mark.parametrize("dtype, exc", [(int, TypeError), (np.float32, TypeError), ("int64", ValueError),
                                        (torch.int8, ValueError), ("no_such_dtype", ValueError)])  # fmt: skip
def test_load_model_refuses_bad_dtype(dtype, exc):
    with pytest.raises(exc, match="dtype"):
        load_model("toy-shapes", device="cpu", dtype=dtype)


def test_load_model_accepts_dtype_names(toy):
    model = load_model((toy.model, toy.processor), device="cpu", dtype="float32")
    assert next(model.model.parameters()).dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_load_model_refuses_cuda_without_a_gpu(device):
    with pytest.raises(ValueError, match=r"device: .*no|device: .*none"):
        load_model("toy-shapes", device=device)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_load_model_refuses_a_missing_gpu_index():
    with pytest.raises(ValueError, match="device"):
        load_model("toy-shapes", device=f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("device, exc", [("gpu", ValueError), (1.5, TypeError), (["cpu"], TypeError)])
def test_load_model_refuses_bad_device(device, exc):
    with pytest.raises(exc, match="device"):
        load_model("toy-shapes", device=device)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"batchsize": 8}, "unknown option"), ({"pixel_space": "yes"}, "pixel_space"), ({"name": 3}, "name"),
     ({"trust_remote_code": "yes"}, "trust_remote_code")],
)  # fmt: skip
def test_load_model_refuses_unknown_or_mistyped_options(kwargs, match):
    with pytest.raises(TypeError, match=match):
        load_model("toy-shapes", device="cpu", **kwargs)


# ---------------------------------------------------------------------------------------------------------
# prompts, targets and variants
def test_prompt_longer_than_the_context_says_so(case):
    model, img, _ = case
    context = model.context_length
    assert context == model.model.config.text_config.max_position_embeddings
    long = " ".join(["what colour is the square ?"] * (context // 5))
    with pytest.raises(ValueError, match="prompt: too long") as info:
        model.generate(img, long)
    n_input = model._prepare(img, long).enc["input_ids"].shape[1]
    assert n_input > context
    assert f"{n_input} tokens" in str(info.value) and f"{context} tokens" in str(info.value)


def test_prompt_within_the_context_still_generates(case):
    model, img, _ = case
    gen = model.generate(img, PROMPT, max_new_tokens=2)
    assert gen.input_ids.shape[0] <= model.context_length and gen.n_generated >= 1


def test_target_longer_than_the_context_says_so(case):
    model, _, gen = case
    room = model.context_length - gen.input_ids.shape[0] + 1  # target tokens that still fit
    word = model.tokenizer("red", add_special_tokens=False)["input_ids"]
    assert model.with_target(gen, word * room).n_generated == room
    with pytest.raises(ValueError, match=rf"target: too long.*{model.context_length} tokens"):
        model.with_target(gen, word * (room + 1))


@pytest.mark.parametrize("bad", ["what \ud800 colour ?", "\udfff", "colour \udc80"])
def test_surrogates_in_a_prompt_are_refused(case, bad):
    model, img, gen = case
    with pytest.raises(ValueError, match="prompt: contains .* lone surrogate"):
        model.generate(img, bad)
    with pytest.raises(ValueError, match="target: contains"):
        model.with_target(gen, "red " + bad)
    with pytest.raises(ValueError, match=r"variants\[1\]: contains"):
        model.score_text(gen, [PROMPT, bad])


def test_surrogates_refused_by_the_classifier_too():
    clf = ClassifierScoringModel(torch.nn.Flatten(), ["a"] * 12, name="flat")
    with pytest.raises(ValueError, match="prompt"):
        clf.generate(np.zeros((2, 2, 3), np.uint8), "\ud800")


def test_non_integer_token_ids_and_max_new_tokens_are_refused(case):
    model, img, gen = case
    with pytest.raises(TypeError, match="target"):
        model.with_target(gen, [5.7, 6.0])  # used to become [5, 6] silently
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(img, PROMPT, max_new_tokens=True)


# ---------------------------------------------------------------------------------------------------------
# images
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_images_are_refused(case, value):
    model, img, _ = case
    bad = img.astype(np.float32) / 255
    bad[10, 10, 1] = value
    with pytest.raises(ValueError, match="image: contains 1 NaN or infinite"):
        model.generate(bad, PROMPT)
    with pytest.raises(ValueError, match="image: contains"):
        as_rgb_array(torch.from_numpy(bad))


def test_finite_float_images_give_the_uint8_answer(case):
    model, img, gen = case
    as_float = model.generate(img.astype(np.float64) / 255, PROMPT, max_new_tokens=2)
    assert as_float.generated_tokens == gen.generated_tokens
    assert as_rgb_array(torch.from_numpy(img / 255).to(torch.bfloat16)).shape == img.shape


# ---------------------------------------------------------------------------------------------------------
# a generation of the wrong type, and other white-box arguments
CALLS = {
    "with_target": lambda m, g: m.with_target(g, "red"),
    "score": lambda m, g: m.score(g, torch.ones(1, 96, 96)),
    "score_text": lambda m, g: m.score_text(g, [PROMPT]),
    "processed_pixels": lambda m, g: m.processed_pixels(g),
    "pixel_forward": lambda m, g: m.pixel_forward(g, torch.zeros(1, 3, 96, 96)),
    "image_features": lambda m, g: m.image_features(g),
    "score_features": lambda m, g: m.score_features(g, torch.zeros(1, 36, 128)),
    "hidden_states": lambda m, g: m.hidden_states(g),
    "image_hidden_states": lambda m, g: m.image_hidden_states(g),
    "logit_lens": lambda m, g: m.logit_lens(g),
}


@pytest.mark.parametrize("entry", sorted(CALLS))
@pytest.mark.parametrize("bad", ["a caption", {"generated_ids": [1]}, None])
def test_every_entry_point_names_a_wrong_generation(case, entry, bad):
    model = case[0]
    before = model.n_forward
    with pytest.raises(TypeError, match="gen: expected a Generation"):
        CALLS[entry](model, bad)
    assert model.n_forward == before  # refused before any forward


def test_classifier_names_a_wrong_generation():
    clf = ClassifierScoringModel(torch.nn.Flatten(), ["a"] * 12, name="flat")
    for call in (lambda: clf.with_target("x", [0]), lambda: clf.score("x", np.ones((1, 2, 2)))):
        with pytest.raises(TypeError, match="gen: expected a Generation"):
            call()


def test_white_box_arguments_are_checked(case):
    model, _, gen = case
    n_layers = len(model.hidden_states(gen))
    with pytest.raises(TypeError, match="features"):
        model.score_features(gen, np.zeros((1, 36, 128)))
    with pytest.raises(TypeError, match="pixel_values"):
        model.pixel_forward(gen, np.zeros((1, 3, 96, 96)))
    with pytest.raises(ValueError, match="layer"):
        model.logit_lens(gen, layer=n_layers)
    with pytest.raises(TypeError, match="layer"):
        model.image_hidden_states(gen, layer=1.0)
    assert model.image_hidden_states(gen, layer=-n_layers).shape[0] == gen.geometry["n_image_tokens"]


def test_the_working_directory_is_untouched(tmp_path, monkeypatch):
    """Refusing ``""`` happens before any file access, whatever the working directory holds."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="spec"):
        load_model("")
    assert os.listdir(tmp_path) == ["config.json"]


def test_classifier_refuses_non_integer_class_ids():
    clf = ClassifierScoringModel(torch.nn.Flatten(), ["a"] * 12, name="flat")
    gen = clf.generate(np.zeros((2, 2, 3), np.uint8))
    assert clf.with_target(gen, np.array([3])).generated_ids.tolist() == [3]
    with pytest.raises(TypeError, match="target"):
        clf.with_target(gen, [1.5])  # used to become class 1 silently


def test_text_variant_longer_than_the_context_says_so(case):
    model, _, gen = case
    long = " ".join(["what colour is the square ?"] * (model.context_length // 5))
    with pytest.raises(ValueError, match=rf"variants\[1\]: too long.*{model.context_length} tokens"):
        model.score_text(gen, [PROMPT, long])
