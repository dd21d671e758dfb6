"""Moment search ("ClipAnything"): what was said and shown in a workspace's sources, found by meaning and words."""
