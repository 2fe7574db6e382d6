"""Bring your own model: checkpoints saved with ``save_pretrained`` load with ``load_model(dir)`` and see the image.

Issue 18 item 1: a Qwen2-VL directory saved from our image-only processor used to load with a bare tokenizer
as its "processor"; the model then saw one literal placeholder and no pixels, and ``p_full == p_empty``. Every
family here is saved, loaded from its directory, and must (a) build a processor with an image processor,
(b) give the same answer as the in-memory pair, and (c) answer differently when the image is blacked out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from xattr_lab.models.loading import load_model, load_processor

PROMPT = "what is in the image ?"
TARGET = "red circle"


def tiny_qwen2_5_vl() -> tuple[Any, Any]:
    """Qwen2.5-VL (windowed vision attention, RMSNorm merger) with the image-only processor."""
    from tiny import QWEN_TEMPLATE, text_config, word_tokenizer
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from xattr_lab.models.qwen import image_only_processor

    specials = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>",
                "<|video_pad|>"]  # fmt: skip
    tok = word_tokenizer(specials, "<|image_pad|>", {"video_token": "<|video_pad|>"})
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials}
    config = Qwen2_5_VLConfig(
        text_config=text_config(len(tok), rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                           fullatt_block_indexes=[1], in_channels=3),  # fmt: skip
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    ip = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56 * 4, patch_size=14, merge_size=2,
                                  temporal_patch_size=2)  # fmt: skip
    return model, image_only_processor(ip, tok, QWEN_TEMPLATE, base_name="Qwen2_5_VLProcessor")


def tiny_idefics3_split(size: int = 32, patch: int = 8) -> tuple[Any, Any]:
    """Idefics3 / SmolVLM with image splitting (SmolVLM's default): tiles of ``size`` plus the global image."""
    from tiny import IDEFICS_TEMPLATE, text_config, word_tokenizer
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    tiles = [f"<row_{r}_col_{c}>" for r in range(1, 5) for c in range(1, 5)]
    specials = ["<|im_start|>", "<image>", "<fake_token_around_image>", "<global-img>", "<end_of_utterance>", *tiles]
    tok = word_tokenizer(specials, "<image>")
    config = Idefics3Config(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=size, patch_size=patch),  # fmt: skip
        text_config=text_config(len(tok)),
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        scale_factor=2,
    )
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config).eval()
    ip = Idefics3ImageProcessorPil(do_resize=True, size={"longest_edge": 2 * size},
                                   max_image_size={"longest_edge": size}, do_image_splitting=True)  # fmt: skip
    proc = Idefics3Processor(image_processor=ip, tokenizer=tok, image_seq_len=(size // patch // 2) ** 2,
                             chat_template=IDEFICS_TEMPLATE)  # fmt: skip
    return model, proc


def _builders() -> dict[str, Any]:
    from tiny import FAMILIES

    return {**FAMILIES, "qwen2_5_vl": tiny_qwen2_5_vl, "idefics3_split": tiny_idefics3_split}


FAMILY_NAMES = ["llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "idefics3", "idefics3_split"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each family built once and saved with ``save_pretrained`` (model and processor) to its own directory."""
    cache: dict[str, tuple[Path, Any, Any]] = {}

    def get(name: str) -> tuple[Path, Any, Any]:
        if name not in cache:
            model, processor = _builders()[name]()
            path = tmp_path_factory.mktemp(name)
            model.save_pretrained(path)
            processor.save_pretrained(path)
            cache[name] = (path, model, processor)
        return cache[name]

    return get


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (40, 52, 3), dtype=np.uint8)


def _full_and_empty(m: Any) -> tuple[Any, np.ndarray]:
    """The generation for ``TARGET`` and its probabilities with the whole image kept, then blacked out."""
    gen = m.with_target(m.generate(_image(), PROMPT, 2), TARGET)
    masks = np.stack([np.ones((40, 52)), np.zeros((40, 52))])
    return gen, m.score(gen, masks).numpy()


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_saved_directory_loads_a_processor_that_shows_the_model_the_image(saved, family):
    path, model, processor = saved(family)
    loaded = load_model(path, device="cpu")
    pair = load_model((model, processor))
    assert loaded.processor.image_processor is not None
    gen, probs = _full_and_empty(loaded)
    ref_gen, ref = _full_and_empty(pair)
    # the directory's processor prepares the same inputs as the one it was saved from
    assert gen.input_ids.tolist() == ref_gen.input_ids.tolist()
    assert gen.geometry["pixel_values_shape"] == ref_gen.geometry["pixel_values_shape"] != []
    assert gen.geometry["n_image_tokens"] == ref_gen.geometry["n_image_tokens"] > 1
    np.testing.assert_allclose(probs, ref, rtol=1e-4, atol=1e-6)
    # the model's output depends on the image: blacking it out moves every target probability
    assert np.all(np.abs(probs[0] - probs[1]) > 1e-6 * np.maximum(probs[0], 1e-12)), probs


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_qwen_saves_under_the_stock_class_name(saved, family):
    path, _, processor = saved(family)
    stock = type(processor).__name__
    assert stock in ("Qwen2VLProcessor", "Qwen2_5_VLProcessor")
    assert json.loads((path / "processor_config.json").read_text())["processor_class"] == stock
    assert not (path / "video_preprocessor_config.json").exists()  # the image-only path handles its absence
    assert type(load_processor(path)).__qualname__ == f"ImageOnly{stock}"


def test_a_directory_saved_under_the_old_image_only_name_still_loads(saved, tmp_path):
    import shutil

    path, _, _ = saved("qwen2_vl")
    old = tmp_path / "old"
    shutil.copytree(path, old)
    for name in ("processor_config.json", "tokenizer_config.json"):
        cfg = json.loads((old / name).read_text())
        cfg["processor_class"] = "ImageOnlyQwen2VLProcessor"  # what saves wrote before the fix
        (old / name).write_text(json.dumps(cfg))
    m = load_model(old, device="cpu")
    gen, probs = _full_and_empty(m)
    assert gen.geometry["n_image_tokens"] > 1 and probs[0, 0] != probs[1, 0]


def test_a_directory_whose_processor_is_a_tokenizer_is_refused(saved, tmp_path):
    path, _, processor = saved("llava")
    processor.tokenizer.save_pretrained(tmp_path)  # the tokenizer alone, as if the processor were lost
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((path / name).read_bytes())
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg["processor_class"] = "MyOwnProcessor"  # a class AutoProcessor does not know: it falls back to the tokenizer
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="no image processor"):
        load_model(tmp_path, device="cpu")


def test_a_pair_with_a_tokenizer_for_processor_is_refused(saved):
    _, model, processor = saved("llava")
    with pytest.raises(TypeError, match="no image processor"):
        load_model((model, processor.tokenizer))


def test_the_adapter_refuses_inputs_without_pixels(saved):
    _, model, processor = saved("llava")
    m = load_model((model, processor))

    def drop_pixels(images, texts, padding=False, _process=m._process):
        enc = _process(images, texts, padding)
        return {k: v for k, v in enc.items() if k != "pixel_values"}

    m._process = drop_pixels  # what a processor that ignores images gives
    with pytest.raises(ValueError, match="would not see the image"):
        m.generate(_image(), PROMPT, 2)


FRESH = """
import json, sys
import numpy as np, torch
torch.set_num_threads(1)
from xattr_lab.models.loading import load_model
image = np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)
out = {{}}
for path in sys.argv[1:]:
    m = load_model(path, device="cpu")
    gen = m.with_target(m.generate(image, {prompt!r}, 2), {target!r})
    probs = m.score(gen, np.stack([np.ones((40, 52)), np.zeros((40, 52))])).numpy()
    out[path] = {{"processor": type(m.processor).__qualname__, "n_image_tokens": gen.geometry["n_image_tokens"],
                  "probs": probs.tolist()}}
print(json.dumps(out))
"""


def _fresh_process(paths: list[Path]) -> dict[str, Any]:
    """Load each directory in a new interpreter (nothing but the directory) and score the image kept / blacked."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    code = FRESH.format(prompt=PROMPT, target=TARGET)
    out = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, env=env,
                         timeout=300, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_family_in_a_fresh_process(saved):
    """The way a user loads a checkpoint: a new interpreter and ``load_model(dir)``, for every family."""
    paths = {family: saved(family)[0] for family in FAMILY_NAMES}
    got = _fresh_process(list(paths.values()))
    for family, path in paths.items():
        _, model, processor = saved(family)
        ref_gen, ref = _full_and_empty(load_model((model, processor)))
        row = got[str(path)]
        assert row["processor"] == type(processor).__qualname__, family
        assert row["n_image_tokens"] == ref_gen.geometry["n_image_tokens"] > 1, family
        np.testing.assert_allclose(np.array(row["probs"]), ref, rtol=1e-4, atol=1e-6, err_msg=family)
        assert row["probs"][0] != row["probs"][1], family


def test_qwen_in_the_hub_layout_with_the_template_in_the_tokenizer_config(saved, tmp_path):
    """A hub-style Qwen2-VL directory: flat preprocessor_config.json, a video processor config (which needs
    torchvision to build), and the legacy place of the chat template, tokenizer_config.json."""
    path, model, processor = saved("qwen2_vl")
    hub = tmp_path / "hub"
    hub.mkdir()
    for name in ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"):
        (hub / name).write_bytes((path / name).read_bytes())
    nested = json.loads((path / "processor_config.json").read_text())
    (hub / "preprocessor_config.json").write_text(json.dumps({**nested["image_processor"],
                                                              "processor_class": "Qwen2VLProcessor"}))  # fmt: skip
    video = {"video_processor_type": "Qwen2VLVideoProcessor", "processor_class": "Qwen2VLProcessor"}
    (hub / "video_preprocessor_config.json").write_text(json.dumps(video))
    tok_cfg = json.loads((path / "tokenizer_config.json").read_text())
    tok_cfg["chat_template"] = (path / "chat_template.jinja").read_text()
    (hub / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    m = load_model(hub, device="cpu")
    assert m.processor.image_processor is not None
    gen, probs = _full_and_empty(m)
    ref_gen, ref = _full_and_empty(load_model((model, processor)))
    assert gen.input_ids.tolist() == ref_gen.input_ids.tolist()
    assert gen.geometry["chat_template"] == "tokenizer"  # its legacy place, not the bare fallback
    np.testing.assert_allclose(probs, ref, rtol=1e-4, atol=1e-6)


# -- prompts as users write them (issue 18 item 4) and provenance (item 7) -----------------------------------


@pytest.mark.parametrize("family", ["llava", "qwen2_vl", "idefics3"])
def test_an_already_templated_prompt_passes_through(saved, family):
    path, _, _ = saved(family)
    m = load_model(path, device="cpu")
    plain = m.generate(_image(), PROMPT, 2)
    templated_prompt = m.chat_text(PROMPT)
    assert templated_prompt != PROMPT and plain.geometry["chat_template"] == "processor"
    templated = m.generate(_image(), templated_prompt, 2)
    assert templated.input_ids.tolist() == plain.input_ids.tolist()  # not templated twice
    assert templated.geometry["chat_template"] == "prompt"


@pytest.mark.parametrize(
    "family, prompt, words",
    [
        ("llava", "<image>\nwhat is in the image ?", "holds the image token '<image>' but is not chat-templated"),
        ("llava", "USER: what is in the image ? ASSISTANT:", "looks already chat-templated .* no image token"),
        ("llava", "USER: <image> <image> what ? ASSISTANT:", "holds the image token '<image>' 2 times"),
        ("qwen2_vl", "<|vision_start|><|image_pad|><|vision_end|>what ?", "not chat-templated"),
        ("qwen2_vl", "<|im_start|>user\nwhat ?<|im_end|>\n<|im_start|>assistant\n", "no image token '<|image_pad|>'"),
        ("idefics3", "<image> what is in the image ?", "not chat-templated"),
    ],
)
def test_a_prompt_that_places_the_image_ambiguously_is_refused(saved, family, prompt, words):
    path, _, _ = saved(family)
    m = load_model(path, device="cpu")
    with pytest.raises(ValueError, match=words):
        m.generate(_image(), prompt, 2)


@pytest.mark.parametrize("family", ["llava", "qwen2_vl"])
def test_a_template_only_in_the_tokenizer_is_used(family):
    model, processor = _builders()[family]()
    reference = load_model((model, processor)).chat_text(PROMPT)
    template, processor.chat_template = processor.chat_template, None
    processor.tokenizer.chat_template = template  # where many hub checkpoints keep it
    m = load_model((model, processor))
    gen = m.generate(_image(), PROMPT, 2)
    assert m.chat_text(PROMPT) == reference and gen.geometry["chat_template"] == "tokenizer"


def test_without_any_template_qwen_keeps_its_vision_span():
    model, processor = tiny_qwen2_5_vl()
    processor.chat_template = None
    m = load_model((model, processor))
    gen = m.generate(_image(), PROMPT, 2)
    assert m.chat_text(PROMPT) == f"<|vision_start|><|image_pad|><|vision_end|>\n{PROMPT}"
    assert gen.geometry["chat_template"] == "none" and gen.geometry["n_image_tokens"] > 1
    own = m.generate(_image(), f"<|vision_start|><|image_pad|><|vision_end|> {PROMPT}", 2)
    assert own.geometry["chat_template"] == "none, prompt holds the image token"


@pytest.mark.parametrize("family, masking", [("llava", "pixel_space"), ("qwen2_vl", "pixel_space")])
def test_explanations_record_the_family_processor_masking_and_template(saved, family, masking):
    import transformers

    import xattr_lab

    path, _, _ = saved(family)
    m = load_model(path, device="cpu")
    e = xattr_lab.explain(m, _image(), PROMPT, method="random", regions="grid:2", target=TARGET)
    assert e.info["versions"]["transformers"] == transformers.__version__
    assert e.info["family"] == family and e.info["masking"] == masking and e.info["chat_template"] == "processor"
    assert e.info["processor"] == type(m.processor).__qualname__
    assert e.info["image_processor"] == type(m.processor.image_processor).__qualname__
    cmp = xattr_lab.compare(m, _image(), PROMPT, ["random"], regions="grid:2", target=TARGET)
    assert {k: cmp.info[k] for k in ("family", "processor", "masking", "chat_template")} == {
        k: e.info[k] for k in ("family", "processor", "masking", "chat_template")
    }
