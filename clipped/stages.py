"""The pipeline's stages, each named once with the version of the code that computes it."""

from clipped.stage_record import Stage

SOURCE_VIDEO = Stage("source_video", code_version="1")
TRANSCRIPT = Stage("transcript", code_version="2")  # 2: word edges on the speech onsets and offsets
SCENES = Stage("scenes", code_version="1")
AUDIO_FEATURES = Stage("audio_features", code_version="2")
CANDIDATES = Stage("candidates", code_version="3")  # 2: writing; 3: baseline, reactions, coherence
FACES = Stage("faces", code_version="1")
RENDERED_CLIPS = Stage("rendered_clips", code_version="2")
SOURCE_SUMMARY = Stage("source_summary", code_version="1")
MOMENT_INDEX = Stage("moment_index", code_version="1")
# Recorded per version (clipped.render.versions.version_stage), so a new version never invalidates another.
CLIP_VERSION = Stage("clip_version", code_version="2")

# What one clip job computes, in the order it runs on one machine: the steps `clipped run` and the review API show.
CLIP_JOB_STEPS = tuple(
    stage.name
    for stage in (
        SOURCE_VIDEO,
        TRANSCRIPT,
        SCENES,
        AUDIO_FEATURES,
        CANDIDATES,
        MOMENT_INDEX,
        SOURCE_SUMMARY,
        FACES,
        RENDERED_CLIPS,
    )
)
