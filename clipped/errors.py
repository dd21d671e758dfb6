"""The errors that mean "this input cannot be processed": shown as one line, never retried.

Every asset body goes through ``clipped_assets.step_context.bad_input_policy``, which turns these (and only these)
into that failure; any other error is a fault and retries under the asset's retry policy.
"""

from clipped.ingest.fetch import SourceAccessError
from clipped.ingest.probe import InvalidMediaError
from clipped.ingest.url_policy import DisallowedUrlError
from clipped.layout import InvalidKeyError
from clipped.render.versions import ClipVersionError
from clipped.select.errors import NoCandidatesError

BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (
    SourceAccessError,
    InvalidMediaError,
    DisallowedUrlError,
    InvalidKeyError,
    NoCandidatesError,
    ClipVersionError,  # a version's request or its clip is not there: the same request cannot succeed later
)
