"""Word lists and token normalisation behind the text heuristics (English; other languages score on structure,
pauses and audio only, since none of these words will match)."""

from __future__ import annotations

import re


def words(text: str) -> frozenset[str]:
    """A word list written as one space-separated string (easier to read and diff than a set literal)."""
    return frozenset(text.split())


TERMINAL_PUNCTUATION = (".", "!", "?", "…")
CLOSING_MARKS = "\"'”’)]»"

ABBREVIATIONS = words(
    "mr. mrs. ms. dr. prof. st. jr. sr. vs. etc. e.g. i.e. approx. no. fig. inc. ltd. co. u.s. u.k. a.m. "
    "p.m. mt. gen. sgt. capt."
)
"""Words whose full stop does not end a sentence."""

CONTINUATIONS = words(
    "and but so because or then also plus which that though although anyway cause 'cause nor yet whereas therefore"
)
"""A sentence opening with one of these leans on what came before it."""

FILLERS = frozenset({"um", "uh", "erm", "er", "ah", "hmm", "mm", "mhm", "like", "yeah", "okay", "ok", "right"})

DANGLING_OPENERS = words("it it's its that that's those these they they're them he he's she she's him her there's")
"""A window opening on one of these points back at something the viewer has not heard ("it", "that one")."""

HEDGES = frozenset({("sort", "of"), ("kind", "of"), ("you", "know"), ("i", "mean"), ("i", "guess")})
"""Two-word fillers: a line full of them is someone thinking aloud, not a hook."""

OPEN_QUESTION_WORDS = frozenset({"why", "how"})
"""Questions that open a curiosity gap; "who wants to ...", "do you guys ..." are usually logistics."""

STORY_OPENERS = frozenset(
    {
        ("i", "remember"),
        ("one", "time"),
        ("one", "day"),
        ("one", "night"),
        ("there", "i"),
        ("years", "ago"),
        ("let", "me"),
        ("true", "story"),
        ("first", "time"),
        ("last", "week"),
        ("last", "year"),
        ("when", "i"),
        ("picture", "this"),
        ("funny", "story"),
        ("long", "story"),
    }
)
"""Two-word openings of a told story: the setup of a setup-payoff arc."""

PAYOFF_WORDS = words("turns finally suddenly punchline realized realised")
PAYOFF_BIGRAMS = frozenset(
    {("turns", "out"), ("that's", "when"), ("that's", "why"), ("it", "worked"), ("never", "again"), ("the", "end")}
)
"""The turn or payoff of a story, in the window's last sentences."""

QUESTION_WORDS = frozenset({"why", "how", "what", "who", "where", "when", "which", "whats", "what's"})
QUESTION_AUXILIARIES = words("do does did is are was were can could would should have has will")
"""With no punctuation in a transcript, a sentence opening "why ..." or "do you ..." is taken as a question."""

SECOND_PERSON = frozenset({"you", "your", "you're", "yours", "yourself", "yourselves", "you've", "you'll", "you'd"})

CURIOSITY_WORDS = words(
    "secret secrets never why how mistake mistakes nobody everyone everybody truth stop biggest worst "
    "best surprising surprised wrong crazy imagine hidden insane shocking actually myth lie lies warning "
    "dangerous weird unbelievable incredible nobody's ever only real really"
)
"""Words that open a curiosity gap or make a strong claim in a first sentence."""

TRIGGER_WORDS = words(
    "here's important key secret lesson lessons tip tips trick reason truth mistake mistakes problem "
    "solution step steps rule rules strategy insight learned discovered realized realised research study "
    "studies data proof example remember essentially basically simple framework advice result results"
)
"""Words that announce a point worth hearing."""

TRIGGER_BIGRAMS = frozenset(
    {
        ("here", "is"),
        ("turns", "out"),
        ("what", "happens"),
        ("you", "need"),
        ("you", "should"),
        ("the", "answer"),
        ("the", "point"),
        ("the", "thing"),
        ("the", "difference"),
        ("pay", "attention"),
    }
)
"""Two-word triggers; none ends in a word of TRIGGER_WORDS, so a phrase never counts twice."""

NUMBER_WORDS = words(
    "zero two three four five six seven eight nine ten eleven twelve thirteen fifteen twenty thirty "
    "forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions billion "
    "billions percent dozen"
)

STOPWORDS = words(
    "a an the and or but so if of to in on at by for with from as is are was were be been being am it "
    "it's its this that these those there here i i'm me my we our us you your he she him her his they "
    "them their what which who whom do does did done have has had not no yes just very can could would "
    "should will shall may might must about into than then too also all any some more most much many up "
    "down out over get got go going know like um uh yeah okay oh well really thing things don't that's "
    "there's we're they're you're because when where how why now"
)

_NON_WORD = re.compile(r"[^\w'.%-]+")


def normalize(token: str) -> str:
    """Lower-case a word and strip surrounding punctuation, keeping apostrophes (curly ones straightened)."""
    cleaned = _NON_WORD.sub("", token.strip().replace("’", "'").lower())
    return cleaned.strip(".-'")


def ends_sentence(token: str) -> bool:
    """Whether an ASR word closes its sentence (terminal punctuation not belonging to an abbreviation)."""
    stripped = token.strip().rstrip(CLOSING_MARKS)
    if not stripped.endswith(TERMINAL_PUNCTUATION):
        return False
    if stripped.endswith("."):
        bare = stripped.lstrip("\"'“‘([«")
        # Known abbreviations and single capital initials ("J. R. R. Tolkien").
        if bare.lower() in ABBREVIATIONS or (len(bare) == 2 and bare[0].isupper()):
            return False
    return True
