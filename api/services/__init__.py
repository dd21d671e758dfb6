"""Service layer: launching runs, reading status from Dagster, clips, uploads, rendering."""
