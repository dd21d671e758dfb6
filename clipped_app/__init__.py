"""The app floor: the `clipped` CLI, running the clip job in process, and the local Dagster instance."""
