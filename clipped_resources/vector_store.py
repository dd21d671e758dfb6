"""The `vector_store` role: where moment search keeps its index (LanceDB) and how it embeds text.

One class for both profiles, as the style guide asks where one library serves both: only ``uri`` and
``storage_options`` change (the storage's root folder, or ``s3://bucket`` with the endpoint of MinIO/R2/moto);
each workspace's table lives under ``{uri}/{workspace}/moments``.
Credentials are never configured here: LanceDB reads the standard AWS variables from the environment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from clipped.search.frames import DEFAULT_OCR_FRAMES, load_screen_reader
from clipped.search.image_embedding import ClipImageEmbedder
from clipped.search.moment_store import MomentHit, MomentStore
from clipped.understand.sentence_embedding import SentenceEmbedder


class VectorStoreResource(ConfigurableResource):
    uri: str = Field(description="LanceDB root: a local folder, or s3://bucket")
    storage_options: dict[str, str] = Field(
        default_factory=dict,
        description="object-store options without secrets (aws_endpoint, aws_region, allow_http)",
    )
    embedding_threads: int = Field(default=1, ge=1, description="onnxruntime threads of the sentence embedder")
    ocr_frames: int = Field(
        default=DEFAULT_OCR_FRAMES,
        ge=0,
        description="most frames per source read for on-screen text (one per 5 min); 0 turns OCR off",
    )
    image_model: str = Field(default="", description="open_clip model name for frame search (GPU images), or empty")
    image_model_path: str = Field(default="", description="the CLIP checkpoint file baked into the image")

    def store(self) -> MomentStore:
        return _store(self.uri, tuple(sorted(self.storage_options.items())))

    def embedder(self) -> SentenceEmbedder:
        return _embedder(self.embedding_threads)

    def screen_reader(self) -> Callable[[Path], str] | None:
        """The OCR, or None when no frames are to be read."""
        return load_screen_reader() if self.ocr_frames > 0 else None

    def image_embedder(self) -> ClipImageEmbedder | None:
        """The CLIP model when one is configured (its loading errors say what is missing)."""
        return ClipImageEmbedder(self.image_model, self.image_model_path) if self.image_model else None

    def search(self, workspace_id: str, query: str, *, limit: int = 10) -> list[MomentHit]:
        """The workspace's best moments for ``query`` (meaning and words), best first."""
        return self.store().search(workspace_id, self.embedder().embed_one(query), query, limit=limit)


# One embedder and one connection per process and configuration: the model loads once, however many assets,
# requests or resource copies ask for it.
@functools.cache
def _embedder(threads: int) -> SentenceEmbedder:
    return SentenceEmbedder(threads=threads)


@functools.cache
def _store(uri: str, options: tuple[tuple[str, str], ...]) -> MomentStore:
    return MomentStore(uri, dict(options))
