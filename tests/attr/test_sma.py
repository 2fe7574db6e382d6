import numpy as np
import pytest

from xattr_lab.attr.sma import Source, ridge, sample_masks, sma

SOURCES = [Source("passage", "ctx green", retrieved=True, off="ctx none"), Source("question", "q kai a")]


def fake_score(texts):
    """Output 0 ('green') needs the passage word 'green'; output 1 ('red') the question word 'kai' alone;
    output 2 ('.') is constant."""
    rows = []
    for t in texts:
        words = t.split()
        rows.append([0.9 if "green" in words else 0.01, 0.8 if "kai" in words else 0.05, 0.99])
    return np.array(rows)


def test_sample_masks_keep_at_least_one_word():
    m = sample_masks(200, 3, np.random.default_rng(0))
    assert m.shape == (200, 3) and m.any(axis=1).all() and 0.3 < m.mean() < 0.7


def test_ridge_recovers_a_linear_response():
    rng = np.random.default_rng(0)
    m = sample_masks(300, 4, rng)
    r = (m @ np.array([0.5, 0.0, -0.2, 0.0]))[:, None] + 1.0
    np.testing.assert_allclose(ridge(m, r, alpha=1e-6)[0], [0.5, 0.0, -0.2, 0.0], atol=1e-6)


def test_sma_labels_retrieval_pretraining_and_neither():
    out = sma(fake_score, SOURCES, ["green", "red", "."], n=64)
    assert out.labels == ("retrieval", "pre-training", "neither")
    assert out.words == ("ctx", "green", "q", "kai", "a") and out.word_source[1] == "passage"
    assert np.isnan(out.beta_off[:, :2]).all() and out.p_off[0] < 0.1 < out.p_on[0]
    rows = out.table()
    assert rows[0]["top_word"] == "green" and rows[1]["top_word"] == "kai"
    assert repr(out) == "SourceAttribution(5 words, green:retrieval, red:pre-training, .:neither)"


def test_sma_is_deterministic_and_checks_arguments():
    a, b = (
        sma(fake_score, SOURCES, ["green", "red", "."], seed=3),
        sma(fake_score, SOURCES, ["green", "red", "."], seed=3),
    )
    np.testing.assert_array_equal(a.beta_on, b.beta_on)
    with pytest.raises(ValueError, match="sources"):
        sma(fake_score, [Source("question", "q kai a")], ["green"])
    with pytest.raises(ValueError, match="n"):
        sma(fake_score, SOURCES, ["green", "red", "."], n=1)
    with pytest.raises(ValueError, match="score_fn"):
        sma(fake_score, SOURCES, ["green"])


def test_model_scorer_on_the_shapes_vlm_with_image_noise():
    import xattr_lab
    from xattr_lab.attr.sma import model_scorer
    from xattr_lab.datasets import shapes

    model = xattr_lab.load_model("toy-shapes", device="cpu")
    s = next(shapes(1, seed=5, task="colour"))
    gen = model.generate(s.image, s.prompt, max_new_tokens=1)
    sources = [Source("image as text", "the circle", retrieved=True), Source("question", s.prompt)]
    out = sma(model_scorer(model, gen, sigma=50.0), sources, list(gen.generated_tokens), n=8)
    assert out.beta_on.shape == (1, len(out.words)) and out.labels[0] in {"pre-training", "retrieval", "neither"}
    with pytest.raises(ValueError, match="sigma"):
        model_scorer(model, gen, sigma=-1)


@pytest.mark.slow
def test_toy_text_lm_demo_end_to_end():
    from xattr_lab.attr.sma_toy import demo

    out = demo(steps=300, n=48)
    assert out["memorised"].labels[0] == "pre-training"
    assert out["retrieved"].labels[0] == "retrieval"
    assert out["memorised"].labels[1] == out["retrieved"].labels[1] == "neither"
