"""CLIP image and text embeddings (open_clip) for searching what is shown, on GPU images only.

Optional: open_clip and torch come with the ``gpu`` extra, and the weights are a file baked into the image (its
path is configured; nothing is downloaded at run time). Images and texts land in one space, so a text query finds
frames.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class ImageEmbedderUnavailableError(RuntimeError):
    """The CLIP model cannot be loaded here: weights file missing, or open_clip not installed."""


class ClipImageEmbedder:
    """An open_clip model by name (``ViT-B-32``…) with weights from a local file; loaded on first use."""

    def __init__(self, model_name: str, weights_path: str | Path, *, device: str = "cpu") -> None:
        if not model_name:
            raise ValueError("a CLIP model name is needed (for example ViT-B-32)")
        self.model_name = model_name
        self.weights_path = Path(weights_path)
        self.device = device
        self._loaded: tuple[object, object, object] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[object, object, object]:
        if not self.weights_path.is_file():
            raise ImageEmbedderUnavailableError(
                f"CLIP weights for {self.model_name} not found at {self.weights_path}: bake the checkpoint into the "
                "image and point the vector_store's image_model_path at it (nothing is downloaded at run time)"
            )
        try:
            import open_clip  # the gpu extra; absent from the CPU image
        except ImportError as exc:
            raise ImageEmbedderUnavailableError(
                "CLIP image search needs open_clip_torch (pip install '.[gpu]')"
            ) from exc
        model, _, preprocess = open_clip.create_model_and_transforms(
            self.model_name, pretrained=str(self.weights_path), device=self.device
        )
        model.eval()
        return model, preprocess, open_clip.get_tokenizer(self.model_name)

    def _model(self) -> tuple[object, object, object]:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def embed_images(self, paths: Sequence[Path]) -> np.ndarray:
        """L2-normalised image vectors, one row per file."""
        model, preprocess, _ = self._model()
        import torch  # present whenever open_clip loaded
        from PIL import Image

        with torch.no_grad():
            batch = torch.stack([preprocess(Image.open(path).convert("RGB")) for path in paths]).to(self.device)
            features = model.encode_image(batch)
        return _normalised(features.float().cpu().numpy())

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised text vectors in the images' space (for a search query)."""
        model, _, tokenizer = self._model()
        import torch

        with torch.no_grad():
            features = model.encode_text(tokenizer(list(texts)).to(self.device))
        return _normalised(features.float().cpu().numpy())


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)
