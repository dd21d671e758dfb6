"""The upload inbox: files dropped under ``{workspace}/inbox/`` become sources, once, or go to quarantine."""
