import numpy as np

from xattr_lab.models.hf import HFScoringModel
from xattr_lab.models.loading import load_model


def test_load_from_directory_and_pair(tmp_path, rgb_image):
    from tiny import tiny_llava

    model, processor = tiny_llava()
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = load_model(str(tmp_path), device="cpu")
    pair = load_model((model, processor))
    assert isinstance(loaded, HFScoringModel) and loaded.name == tmp_path.name
    a = loaded.generate(rgb_image, "what is in the image ?", 3)
    b = pair.generate(rgb_image, "what is in the image ?", 3)
    assert a.generated_ids.tolist() == b.generated_ids.tolist()
    assert load_model(loaded) is loaded


def test_qwen_directory_loads_without_torchvision(tmp_path, rgb_image):
    from tiny import tiny_qwen2_vl

    model, processor = tiny_qwen2_vl()
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    gen = loaded.generate(rgb_image, "what is in the image ?", 2)
    assert gen.geometry["n_image_tokens"] > 0
    assert np.isfinite(loaded.score(gen, np.ones((1, 40, 52))).numpy()).all() if gen.n_generated else True


def test_dtype_by_name():
    m = load_model("toy-shapes", device="cpu", dtype="float32")
    assert next(m.model.parameters()).dtype.is_floating_point
