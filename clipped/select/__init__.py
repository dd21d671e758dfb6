"""Finding clip-worthy windows: sentences, windows, scoring, suppression, titles."""

from clipped.select.candidates import select_candidates
from clipped.select.errors import NoCandidatesError
from clipped.select.scoring import WEIGHTS
from clipped.select.sentences import split_sentences

__all__ = ["WEIGHTS", "NoCandidatesError", "select_candidates", "split_sentences"]
