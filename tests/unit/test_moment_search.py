"""Moment search, piece by piece: the LanceDB store, rows from sentences and frames, windows, configuration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipped.layout import InvalidKeyError, SourceRef
from clipped.render.versions import ClipVersionError
from clipped.search.frames import ScreenText, nearest, ocr_times, thumbnail_times
from clipped.search.image_embedding import ClipImageEmbedder, ImageEmbedderUnavailableError
from clipped.search.moment_clip import clip_window, moment_clip_id
from clipped.search.moment_store import MomentStore
from clipped.search.moments import moment_rows, screen_moments, speech_moments
from clipped.types import Sentence
from clipped.understand.sentence_embedding import SentenceEmbedder
from clipped_resources.profiles import vector_store_from_env

TALK = SourceRef("acme", "talk-1")
OTHER = SourceRef("acme", "talk-2")
TALK_SENTENCES = [
    "Welcome everyone to this session about our garden.",
    "Tomatoes need six hours of direct sunlight every day.",
    "Water them deeply at the roots, not on the leaves.",
    "Next week we will talk about compost.",
]
OTHER_SENTENCES = [
    "The central bank raised interest rates again.",
    "Mortgage payments will go up for many families.",
]


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def sentences(texts: list[str], seconds_each: float = 5.0) -> list[Sentence]:
    return [
        Sentence(text=text, start_s=i * seconds_each, end_s=(i + 1) * seconds_each - 0.5, word_start=0, word_end=0)
        for i, text in enumerate(texts)
    ]


def rows_for(source: SourceRef, texts: list[str], embedder: SentenceEmbedder, screen: list[ScreenText] = ()):
    moments = [*speech_moments(sentences(texts)), *screen_moments(screen, duration_s=len(texts) * 5.0)]
    thumbnails = [(t, source.key(f"moments/thumb_{i:04d}.jpg")) for i, t in enumerate(thumbnail_times(60.0))]
    return moment_rows(source, moments, thumbnails, embedder)


def test_search_finds_a_paraphrase_and_exact_words_and_stays_in_its_workspace(tmp_path: Path, embedder) -> None:
    store = MomentStore(str(tmp_path / "lance"))
    screen = [ScreenText(at_s=12.0, text="Q3 revenue up 40%")]
    store.replace_source("acme", TALK.partition_key, rows_for(TALK, TALK_SENTENCES, embedder, screen))
    store.replace_source("acme", OTHER.partition_key, rows_for(OTHER, OTHER_SENTENCES, embedder))
    store.replace_source("globex", "globex.talk-9", rows_for(SourceRef("globex", "talk-9"), TALK_SENTENCES, embedder))

    def search(query: str, workspace: str = "acme"):
        return store.search(workspace, embedder.embed_one(query), query, limit=3)

    best = search("how much sun do tomato plants need")[0]
    assert (best.source, best.kind, best.start_s) == (TALK.partition_key, "speech", 5.0)
    assert best.context.startswith("Welcome everyone") and best.context.endswith("not on the leaves.")
    assert best.thumbnail_key == TALK.key("moments/thumb_0000.jpg")  # 5–9.5 s: nearest thumbnail is the one at 5 s
    assert 0 < best.score <= 1 and best.similarity > 0.4
    assert search("home loans getting more expensive")[0].source == OTHER.partition_key
    # Words seen only on screen are found by the full-text half of the search.
    on_screen = search("revenue")[0]
    assert (on_screen.kind, on_screen.text_match) == ("screen", 1.0)
    assert {hit.source for hit in search("tomatoes", "globex")} == {"globex.talk-9"}
    assert search("tomatoes", "initech") == []


def test_replacing_and_deleting_a_source_touch_only_its_rows(tmp_path: Path, embedder) -> None:
    store = MomentStore(str(tmp_path / "lance"))
    store.replace_source("acme", TALK.partition_key, rows_for(TALK, TALK_SENTENCES, embedder))
    store.replace_source("acme", OTHER.partition_key, rows_for(OTHER, OTHER_SENTENCES, embedder))
    assert (store.count("acme"), store.count("acme", TALK.partition_key)) == (6, 4)

    store.replace_source("acme", TALK.partition_key, rows_for(TALK, TALK_SENTENCES[:1], embedder))
    assert (store.count("acme"), store.count("acme", TALK.partition_key)) == (3, 1)
    assert store.delete_source("acme", TALK.partition_key) == 1
    assert store.count("acme") == 2 and store.delete_source("acme", TALK.partition_key) == 0
    assert store.delete_source("initech", TALK.partition_key) == 0  # a workspace never indexed
    with pytest.raises(ValueError, match="must belong"):
        store.replace_source("acme", TALK.partition_key, rows_for(OTHER, OTHER_SENTENCES, embedder))
    with pytest.raises(InvalidKeyError):
        store.count("../other")


def test_rows_skip_empty_text_and_number_each_kind() -> None:
    class CountingEmbedder:
        def embed(self, texts):
            return np.ones((len(texts), 384), dtype=np.float32)

    moments = [
        *speech_moments(sentences(["First.", "   ", "Third one."])),
        *screen_moments([ScreenText(1.0, " - "), ScreenText(30.0, "Agenda")], duration_s=31.0),
    ]
    rows = moment_rows(TALK, moments, [(5.0, "k0"), (15.0, "k1"), (25.0, "k2")], CountingEmbedder())
    assert [(r.id.split("/", 1)[1], r.thumbnail_key) for r in rows] == [
        ("speech/0", "k0"),
        ("speech/1", "k1"),
        ("screen/0", "k2"),
    ]
    assert rows[2].start_s == 27.5 and rows[2].end_s == 31.0 and rows[2].context == "On screen: Agenda"


def test_frame_times() -> None:
    assert thumbnail_times(25.0) == [5.0, 15.0]
    assert len(thumbnail_times(4 * 3600)) == 120 and thumbnail_times(0) == []
    assert ocr_times(60.0) == [20.0, 40.0]  # at least two
    assert len(ocr_times(3600.0)) == 12 and len(ocr_times(3600.0, 5)) == 5 and ocr_times(60.0, 0) == []
    assert [nearest([5.0, 15.0, 25.0], t) for t in (0, 9.9, 10.1, 99)] == [0, 0, 1, 2]


def test_a_moment_grows_to_whole_sentences_within_the_duration_bounds() -> None:
    spoken = sentences(["a"] * 10, seconds_each=5.0)  # sentence i: 5i .. 5i+4.5
    assert clip_window(spoken, 21.0, 22.0, min_duration_s=15.0, max_duration_s=90.0) == (15.0, 34.5)
    assert clip_window(spoken, 46.0, 47.0, 15.0, 90.0) == (30.0, 49.5)  # the last sentence grows backwards
    assert clip_window(spoken, 0.0, 49.0, 1.0, 12.0) == (0.0, 9.5)  # a too-long moment is cut to fit
    with pytest.raises(ClipVersionError, match="no transcribed speech"):
        clip_window([], 0.0, 1.0, 15.0, 90.0)
    assert moment_clip_id(TALK, 15.0, 34.5) == moment_clip_id(TALK, 15.0, 34.5) != moment_clip_id(OTHER, 15.0, 34.5)


def test_clip_image_embedder_names_the_missing_weights(tmp_path: Path) -> None:
    embedder = ClipImageEmbedder("ViT-B-32", tmp_path / "absent.pt")
    with pytest.raises(ImageEmbedderUnavailableError, match=r"CLIP weights for ViT-B-32 not found .*absent\.pt"):
        embedder.embed_texts(["a red car"])
    weights = tmp_path / "vit-b-32.pt"
    weights.write_bytes(b"not loaded without open_clip")
    try:
        import open_clip  # noqa: F401  (the gpu extra)
    except ImportError:
        with pytest.raises(ImageEmbedderUnavailableError, match="needs open_clip_torch"):
            ClipImageEmbedder("ViT-B-32", weights).embed_images([weights])


def test_vector_store_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLIPPED_VECTOR_STORE_URI", "CLIPPED_SEARCH_OCR_FRAMES", "CLIPPED_CLIP_MODEL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert vector_store_from_env("local", tmp_path).uri == str(tmp_path / "storage")
    monkeypatch.setenv("CLIPPED_S3_BUCKET", "media")
    monkeypatch.setenv("CLIPPED_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("CLIPPED_SEARCH_OCR_FRAMES", "0")
    prod = vector_store_from_env("prod", tmp_path)
    assert prod.uri == "s3://media" and prod.ocr_frames == 0 and prod.screen_reader() is None
    assert prod.storage_options == {
        "aws_endpoint": "http://127.0.0.1:9000",
        "allow_http": "true",
        "aws_region": "eu-west-1",
    }
    monkeypatch.setenv("CLIPPED_SEARCH_OCR_FRAMES", "some")
    with pytest.raises(ValueError, match="whole number"):
        vector_store_from_env("local", tmp_path)
