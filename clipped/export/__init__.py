"""Exports of rendered clips: captions as SRT/VTT, NLE timelines over the source, and streamed zip bundles."""
