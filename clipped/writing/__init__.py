"""Writing and re-ranking clips: hooks, hashtags and post captions, heuristically or with Claude."""
