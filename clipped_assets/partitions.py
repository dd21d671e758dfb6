"""The one partitioning of the asset graph: one partition per source video, keyed ``{workspace}.{video}``."""

from dagster import DynamicPartitionsDefinition

source_video_partitions = DynamicPartitionsDefinition(name="source_video")
