"""Live streams: record a stream into a ring buffer, find moments as they happen, render them as clips.

``recorder`` (streamlink → ffmpeg segments on a monotonic stream clock, gaps, stalls, reconnects),
``ring_buffer`` (segments kept by age and size, pinned while a clip needs them), ``detection`` and ``signals``
(ASR, energy against a running baseline, keywords, scene rate, chat), ``scoring`` (events → clusters → moments),
``clips`` (window from the ring buffer → the VOD render), ``session`` (all of it in one process) and ``service``
(start, stop, list streams with their health) for the CLI and the review API.
"""
