"""Word times moved onto where the audio says speech starts and stops; the words and their order stay as ASR gave them.

Whisper's word timestamps come from cross-attention, which is blurry at the edges of speech: the first word after a
pause often starts a few hundred milliseconds early (in the pause) or late, and the last word before one lingers
over the silence. The audio itself is sharper. Here it is read in 10 ms frames of speech-band energy (four bands,
each against its own rolling noise floor); loud frames grow into *speech islands* (the edges taken where the
energy first rises out of the floor, pauses shorter than a stop consonant bridged); short islands the Silero VAD
(shipped with faster-whisper) hears no voice in are dropped (a click, a knock), or joined to the voice right after
them (the breath of an aspirated "h"). Then each island's first word starts at its onset and its last word ends at
its offset; words inside an island keep their times. An edge the decoder put in silence always moves onto its
island; one inside speech moves at most ``max_shift_s``, so audio with no pauses to read (talk over music) keeps
the decoder's times.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from clipped.types import Segment, Transcript, Word

RATE = 16_000
HOP = 160  # 10 ms frames
_WINDOW = 400  # 25 ms of audio per frame
_FFT = 512
_VAD_WINDOW = 512  # Silero's window at 16 kHz (32 ms)
_SHORTEST_WORD_S = 0.06

# Speech probability per 512-sample window of the 16 kHz mono samples it is given (a piece of the audio).
VoiceProbabilities = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class IslandSettings:
    """How speech islands are found. The defaults were chosen on bench/caption_timing.py's reference."""

    # Below 100 Hz: rumble and hum; the voice's energy is above. Each band is read against its own floor.
    bands_hz: tuple[tuple[float, float], ...] = ((100.0, 500.0), (500.0, 1500.0), (1500.0, 4000.0), (4000.0, 8000.0))
    core_db: float = 9.0  # a frame this far above the floor is surely sound
    edge_db: float = 4.0  # an island reaches out to where its energy first rises this far above the floor
    min_pause_s: float = 0.15  # shorter quiet stretches are stop closures inside words, not pauses
    min_island_s: float = 0.05
    floor_percentile: float = 10.0  # the noise floor: this percentile of the frame levels ...
    floor_window_s: float = 30.0  # ... within this long a stretch around each frame
    floor_min_db: float = -80.0  # a floor is never below this (digital silence would make any hiss speech)
    voice_threshold: float = 0.35  # Silero probability somewhere in an island for it to count as voice
    voice_check_max_s: float = 1.0  # longer islands are taken as voice without asking
    lead_in_gap_s: float = 0.3  # an unvoiced island this close before a voiced one is its start (breath, "h")


@dataclass(frozen=True)
class SpeechIsland:
    start_s: float
    end_s: float


def frame_levels_db(audio: np.ndarray, bands_hz: Sequence[tuple[float, float]]) -> np.ndarray:
    """Mean-square level (dBFS) of ``audio`` within each of ``bands_hz``, per 10 ms frame (frames × bands);
    frame ``i`` covers ``i * 10 ms`` to ``i * 10 ms + 25 ms``. Computed a minute at a time, so an hour never
    needs gigabytes."""
    frames = max(0, (len(audio) - _WINDOW) // HOP + 1)
    window = np.hanning(_WINDOW).astype(np.float32)
    frequencies = np.fft.rfftfreq(_FFT, 1 / RATE)
    in_band = np.stack([(frequencies >= low) & (frequencies < high) for low, high in bands_hz], axis=1)
    # Parseval: sum |X|^2 over the one-sided band, scaled, is the band's mean square in the window.
    scale = 2.0 / (_FFT * float(np.sum(window**2)))
    levels = np.empty((frames, len(bands_hz)), dtype=np.float64)
    block = 6000
    offsets = np.arange(_WINDOW)
    for first in range(0, frames, block):
        count = min(block, frames - first)
        index = (first + np.arange(count))[:, None] * HOP + offsets[None, :]
        power = np.abs(np.fft.rfft(audio[index] * window, _FFT)) ** 2
        levels[first : first + count] = 10 * np.log10(power @ in_band * scale + 1e-12)
    return levels


def noise_floor_db(levels: np.ndarray, settings: IslandSettings = IslandSettings()) -> np.ndarray:
    """Per frame: a low percentile of the levels around it, so a floor that drifts over an hour is followed."""
    if len(levels) == 0:
        return levels
    step = 500  # one floor per 5 s, interpolated between
    reach = int(settings.floor_window_s * 100 / 2)
    centres = np.arange(0, len(levels), step)
    floors = [
        np.percentile(levels[max(0, centre - reach) : centre + reach + 1], settings.floor_percentile)
        for centre in centres
    ]
    floor = np.interp(np.arange(len(levels)), centres, floors)
    return np.maximum(floor, settings.floor_min_db)


def speech_islands(
    audio: np.ndarray,
    *,
    voice_probabilities: VoiceProbabilities | None = None,
    settings: IslandSettings = IslandSettings(),
) -> list[SpeechIsland]:
    """Stretches of 16 kHz mono ``audio`` that are sound, not room: runs of frames above the floor by
    ``edge_db`` holding at least one frame above it by ``core_db``, joined across pauses shorter than
    ``min_pause_s``; short ones in which ``voice_probabilities`` hears no voice are left out."""
    levels = frame_levels_db(audio, settings.bands_hz)
    if len(levels) == 0:
        return []
    # Each band against its own floor: an onset shows first in whichever band the room is quietest in.
    above = np.max(
        np.stack([levels[:, band] - noise_floor_db(levels[:, band], settings) for band in range(levels.shape[1])]),
        axis=0,
    )
    runs = [
        (first, last)
        for first, last in _true_runs(above > settings.edge_db)
        if above[first:last].max() > settings.core_db
    ]
    joined: list[tuple[int, int]] = []
    min_pause = round(settings.min_pause_s * 100)
    for first, last in runs:
        if joined and first - joined[-1][1] < min_pause:
            joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    # A frame's sound is centred in its window; the island spans its frames' centres +/- half a hop.
    centre_s = (_WINDOW / 2 - HOP / 2) / RATE
    islands = [
        SpeechIsland(first * HOP / RATE + centre_s, last * HOP / RATE + centre_s)
        for first, last in joined
        if (last - first) / 100 >= settings.min_island_s
    ]
    if voice_probabilities is not None and islands:
        islands = _voiced(islands, audio, voice_probabilities, settings)
    return islands


def refine_word_times(
    words: Sequence[Word], islands: Sequence[SpeechIsland], *, max_shift_s: float = 0.8
) -> list[Word]:
    """``words`` with each island's first word starting at the island's onset and its last word ending at its
    offset (each moved at most ``max_shift_s``); words keep their text, order and probability, never overlap and
    never go backwards. A word belongs to the island it overlaps most (or lies nearest to), never to an island
    before its predecessor's."""
    owners = _owners(words, islands, max_shift_s)
    refined: list[Word] = []
    previous_end = 0.0
    for index, (word, owner) in enumerate(zip(words, owners, strict=True)):
        start, end = word.start_s, word.end_s
        if owner is not None:
            island = islands[owner]
            if index == 0 or owners[index - 1] != owner:
                start = _moved_onto(start, island.start_s, max_shift_s, into_island=start < island.start_s)
            if index == len(words) - 1 or owners[index + 1] != owner:
                end = _moved_onto(end, island.end_s, max_shift_s, into_island=end > island.end_s)
        start = max(start, previous_end)
        # A word moved past its own end keeps a glimpse of time rather than none.
        end = max(end, start + _SHORTEST_WORD_S)
        refined.append(word.model_copy(update={"start_s": start, "end_s": end}))
        previous_end = end
    return refined


def refine_transcript(
    transcript: Transcript,
    audio: np.ndarray,
    *,
    voice_probabilities: VoiceProbabilities | None = None,
    settings: IslandSettings = IslandSettings(),
) -> Transcript:
    """``transcript`` (of 16 kHz mono ``audio``) with its word times refined; segments follow their words."""
    words = transcript.words
    if not words:
        return transcript
    islands = speech_islands(audio, voice_probabilities=voice_probabilities, settings=settings)
    refined = iter(refine_word_times(words, islands))
    limit = transcript.duration_s if transcript.duration_s > 0 else float("inf")
    segments = []
    for segment in transcript.segments:
        moved = [_clamped(next(refined), limit) for _ in segment.words]
        segments.append(Segment(start_s=moved[0].start_s, end_s=moved[-1].end_s, text=segment.text, words=moved))
    return transcript.model_copy(update={"segments": segments})


def _moved_onto(time_s: float, edge_s: float, max_shift_s: float, *, into_island: bool) -> float:
    """A word edge lying in the silence outside its island is always moved onto the island's edge (the decoder
    put it where nothing is heard); one inside is moved out to the edge only by up to ``max_shift_s``."""
    return edge_s if into_island or abs(edge_s - time_s) <= max_shift_s else time_s


def _clamped(word: Word, limit: float) -> Word:
    if word.end_s <= limit:
        return word
    return word.model_copy(update={"start_s": min(word.start_s, limit), "end_s": limit})


def _owners(words: Sequence[Word], islands: Sequence[SpeechIsland], reach_s: float) -> list[int | None]:
    """For each word, the island it overlaps most (or is nearest to, within ``reach_s``), in time order."""
    owners: list[int | None] = []
    ends = [island.end_s for island in islands]
    first_candidate = 0
    for word in words:
        best, best_score = None, -reach_s
        reachable = max(first_candidate, bisect.bisect_left(ends, word.start_s - reach_s))
        for index in range(reachable, len(islands)):
            island = islands[index]
            if island.start_s > word.end_s + reach_s:
                break
            # Overlap in seconds; negative = the distance between them.
            score = min(word.end_s, island.end_s) - max(word.start_s, island.start_s)
            if score > best_score:
                best, best_score = index, score
        owners.append(best)
        if best is not None:
            first_candidate = best
    return owners


def _voiced(
    islands: list[SpeechIsland], audio: np.ndarray, voice_probabilities: VoiceProbabilities, settings: IslandSettings
) -> list[SpeechIsland]:
    """The islands with a voice in them. An unvoiced island just before a voiced one is its lead-in (the
    breath of an aspirated "h" is not voiced) and joins it; other unvoiced islands are dropped.

    Only islands up to ``voice_check_max_s`` long are asked about (a click or a knock is short; a long sound
    the decoder heard words in is speech), so the detector runs over a few percent of an hour, not all of it.
    """
    window_s = _VAD_WINDOW / RATE
    short = [island for island in islands if island.end_s - island.start_s <= settings.voice_check_max_s]
    # Slack each side: Silero reports a window's probability at its end, and settles on the quiet before.
    spans = [(max(0, int(i.start_s / window_s) - 3), int(np.ceil(i.end_s / window_s)) + 1) for i in short]
    pieces = [audio[first * _VAD_WINDOW : last * _VAD_WINDOW] for first, last in spans]
    pieces = [np.pad(piece, (0, -len(piece) % _VAD_WINDOW)).astype(np.float32, copy=False) for piece in pieces]
    # One call per island: the detector carries state from window to window, so pieces joined end to end
    # would hear the voice of one island in the next.
    heard = {
        island: bool(np.max(voice_probabilities(piece), initial=0.0) >= settings.voice_threshold)
        for island, piece in zip(short, pieces, strict=True)
    }

    def is_voiced(island: SpeechIsland) -> bool:
        return heard.get(island, True)

    voiced: list[SpeechIsland] = []
    lead_in: SpeechIsland | None = None
    for island in islands:
        if not is_voiced(island):
            lead_in = island
            continue
        if lead_in is not None and island.start_s - lead_in.end_s <= settings.lead_in_gap_s:
            island = SpeechIsland(lead_in.start_s, island.end_s)
        voiced.append(island)
        lead_in = None
    return voiced


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
