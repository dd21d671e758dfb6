"""The asset graph's partitions: one per source video, keyed ``{workspace}.{video}``, and one per version of a
rendered clip within its source (see :class:`clipped.layout.ClipVersionRef`)."""

from dagster import DynamicPartitionsDefinition, MultiPartitionsDefinition

from clipped.layout import CLIP_VERSION_PARTITIONS, SOURCE_VIDEO_PARTITIONS

source_video_partitions = DynamicPartitionsDefinition(name=SOURCE_VIDEO_PARTITIONS)
# Versions are keyed within their source, so the source dimension maps each version onto the rendered_clips
# partition it was cut from (lineage per partition in the UI); the API adds a version key before launching it.
clip_version_keys = DynamicPartitionsDefinition(name=CLIP_VERSION_PARTITIONS)
clip_version_partitions = MultiPartitionsDefinition(
    {SOURCE_VIDEO_PARTITIONS: source_video_partitions, CLIP_VERSION_PARTITIONS: clip_version_keys}
)
