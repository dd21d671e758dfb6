"""The errors that mean "this input cannot be processed": shown as one line, never retried."""

from clipped.ingest.fetch import SourceAccessError
from clipped.ingest.probe import InvalidMediaError
from clipped.ingest.url_policy import DisallowedUrlError
from clipped.layout import InvalidKeyError
from clipped.select.errors import NoCandidatesError

BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (
    SourceAccessError,
    InvalidMediaError,
    DisallowedUrlError,
    InvalidKeyError,
    NoCandidatesError,
)
