"""Which kind of stigma, where, and what to do: domain and theme tags, their shares and tests.

Two axes a campaign can act on (after the Quilt.AI study of mental-health stigma on Reddit and
TikTok):

* **domain** — where the stigma (or the talk about mental health) sits: ``self`` (internalised
  shame, one's own condition: "I feel weak for needing meds"), ``community`` (family, friends,
  peers, faith groups, society at large, slurs aimed at others), ``professional`` (workplace,
  employers, HR, clinicians, treatment and care settings, research), or ``none`` (nothing about
  mental health: "this weather is crazy").
* **theme** — what the post does: ``awareness`` (stigma exists and must be broken),
  ``actionable`` (concrete steps, calls to act — for good or ill), ``help_seeking`` (asking how
  to get help, which service, any advice), ``personal_story`` (first-person narrative),
  ``other``.

Tagging needs no coded posts: a transparent **seed lexicon** (``LEXICON``, one plain dict a
user can read and edit) gives each class weighted words and phrases. A post's score for a class
is the sum of the weights of the entries found in it (whole words only; leftmost-longest
phrases, so "my therapist" counts once, not also as "therapist"); the highest score wins if it
reaches ``MIN_SCORE``, otherwise the post gets the fallback class (``none`` / ``other``).
Ties go to the class listed first in ``PRIORITY`` — the more specific and more actionable class:
``professional`` > ``community`` > ``self`` (a named setting — work, care, family, peers — says
more about *where* than a first-person mention of one's own condition: "my friends dropped me
over my anxiety" is about friends), ``help_seeking`` > ``actionable`` > ``awareness`` >
``personal_story`` (what a campaign can answer first).

Negation: in themes, an entry right after "not", "no", "never", "don't"… (two words back, not
across punctuation) does not count — "I'm not looking for advice" asks for none. Domains ignore
negation: "my family doesn't judge me" is still about family. ``explain`` shows every entry
found, its weight and whether a negation cancelled it: why a post got its tag.

Speed: texts are tokenised once (one compiled regex) and the lexicon is compiled into a word
trie, so matching costs about one dict lookup per word however many entries there are; each
distinct text is tagged once (``pandas.factorize``), so repeated posts and retweets cost nothing
extra. ``bench/insights_speed.py`` measures it.

Once people have coded some posts by domain or theme, ``train_tagger`` fits TF-IDF + logistic
regression with cross-validated macro-F1 and per-class F1 (bootstrap 95% CIs); ``tag_with``
uses it instead of the lexicon.

The rest of the module measures: each class's share with Wilson 95% CIs by any group column
(``tag_shares``), stigma within each class (``stigma_by_tag``), a chi-square test of whether the
mix differs between groups with Cramér's V in plain words (``mix_test``), groups side by side
(``compare_groups``), periods for trends (``period_labels``), and the "what to do" tables:
actionable vs awareness content per domain (``action_gap``) and the help-seeking questions most
asked, grouped by a second small lexicon (``help_questions``).

Nothing here infers gender, age or any other trait of a person from text or names: breakdowns
use only columns the user supplied.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError, ModelError
from stigma_core.privacy import mask_pii

KINDS = ("domain", "theme", "help_topic")
DOMAINS = ("self", "community", "professional", "none")
THEMES = ("awareness", "actionable", "help_seeking", "personal_story", "other")
FALLBACK = {"domain": "none", "theme": "other", "help_topic": "other_questions"}
PRIORITY = {
    "domain": ("professional", "community", "self"),
    "theme": ("help_seeking", "actionable", "awareness", "personal_story"),
    "help_topic": ("crisis_talk", "helping_someone", "telling_others", "medication",
                   "waiting_access", "cost", "finding_care", "diagnosis"),
}
"""Classes in tie-break order (first wins a tie); the fallback class is not listed."""
CLASSES = {"domain": DOMAINS, "theme": THEMES,
           "help_topic": (*PRIORITY["help_topic"], FALLBACK["help_topic"])}
CLASS_NAMES = {
    "self": "Self (internalised)", "community": "Community (family, peers, society)",
    "professional": "Professional (work, clinicians, care)",
    "none": "None (no mental-health topic)",
    "awareness": "Awareness", "actionable": "Actionable (advice, calls to act)",
    "help_seeking": "Help-seeking", "personal_story": "Personal story", "other": "Other",
    "finding_care": "Finding a therapist or service", "medication": "Medication and side effects",
    "waiting_access": "Waiting times and access", "telling_others": "Telling family, friends "
    "or work", "helping_someone": "How to help someone else", "crisis_talk": "Someone to talk "
    "to now", "diagnosis": "Do I have a condition? Where to start", "cost": "Cost and insurance",
    "other_questions": "Other questions",
}
"""Plain display names of every class (pages and reports show these)."""
MIN_SCORE = 1.0
"""Least summed weight a class needs before a post leaves the fallback class."""
NEGATION_WINDOW = 2
NEGATORS = frozenset({
    "not", "no", "never", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't",
    "isnt", "aren't", "arent", "wasn't", "wasnt", "won't", "wont", "can't", "cant", "cannot",
    "nobody", "without", "hardly",
})
NEGATION_APPLIES = {"domain": False, "theme": True, "help_topic": False}
DEFAULT_MIN_N = 30
MISSING_GROUP = "(not known)"
ALL = "All"

_CONDITIONS = ("depression", "anxiety", "ocd", "ptsd", "bipolar", "schizophrenia", "psychosis",
               "mental illness", "mental health", "eating disorder", "bpd", "adhd",
               "panic attacks", "severe mental illness", "mental health problems")
_FAMILY = ("mum", "mom", "dad", "parents", "family", "brother", "sister", "son", "daughter",
           "husband", "wife", "partner", "boyfriend", "girlfriend", "friend", "friends",
           "best friend", "flatmate", "roommate", "neighbour", "neighbor", "cousin", "aunt",
           "uncle", "grandma", "grandad", "relatives", "in-laws", "kids", "ex")
_SLURS = ("schizo", "schizos", "psychos", "nutter", "nutters", "lunatic", "lunatics", "loonies",
          "headcase", "headcases", "maniacs", "nutcase", "nutcases", "crazies", "mental cases",
          "schizophrenics", "the mentally ill", "weirdo", "basket case")
_SLUR_WORDS = ("psycho", "loony", "maniac", "nutjob", "crazy", "mental", "nuts", "insane", "mad")
"""Words that are slurs for a person only with an article or insult before them: "that match
was psycho" and "this weather is crazy" are not about anyone."""
_SLUR_LEADS = ("a", "the", "total", "proper", "complete", "you", "that", "some", "like a",
               "every")
_CLINICIANS = ("doctor", "doctors", "gp", "gps", "psychiatrist", "psychiatrists", "psychologist",
               "psychologists", "therapist", "therapists", "counsellor", "counsellors",
               "counselor", "counselors", "nurse", "nurses", "clinician", "clinicians",
               "care coordinator", "care coordinators", "crisis team", "mental health team",
               "psychiatric nurse", "social worker", "social workers")
_CARE = ("hospital", "clinic", "psych ward", "the psych ward", "psych wards", "ward", "nhs",
         "services", "referral", "sectioned", "psych patients", "inpatient", "a&e",
         "early intervention", "treating")
_TREATMENTS = ("meds", "medication", "antidepressants", "antipsychotics", "therapy", "cbt",
               "ect", "lithium", "clozapine", "ssris", "prescription", "treatment", "pills")
_WORK = ("workplace", "at work", "my job", "boss", "employer", "employers", "manager",
         "hr", "coworker", "coworkers", "colleague", "colleagues", "sick leave", "sick note",
         "hire", "hired", "hiring", "fired", "job interview", "office", "career")


def _entries(terms: Iterable[str], weight: float) -> dict[str, float]:
    return {term: weight for term in terms}


LEXICON: dict[str, dict[str, dict[str, float]]] = {
    "domain": {
        "self": {
            # internalised shame
            "ashamed": 2.0, "ashamed of myself": 3.0, "i feel weak": 3.0, "i'm weak": 3.0,
            "weak for needing": 3.0, "i'm broken": 3.0, "i'm a burden": 3.0, "a burden": 2.0,
            "i'm a failure": 3.0, "a failure": 1.5, "i don't deserve": 3.0,
            "people like me": 2.5, "someone like me": 2.5, "embarrassed": 1.5,
            "hate myself": 3.0, "i'm useless": 2.5, "worthless": 2.0, "my fault": 1.5,
            "deal with me": 2.0, "hide my": 1.5, "i'm so ocd": 1.5, "i'm going crazy": 0.5,
            "i'm just a": 1.5, "i'm proud": 1.0,
            # one's own condition and diagnosis (the phrase takes the condition word with it)
            **_entries((f"my {c}" for c in _CONDITIONS), 1.5),
            **_entries((f"i have {c}" for c in _CONDITIONS), 2.0),
            **_entries((f"i had {c}" for c in _CONDITIONS), 1.5),
            **_entries((f"diagnosed with {c}" for c in _CONDITIONS), 2.0),
            **_entries((f"living with {c}" for c in _CONDITIONS), 1.5),
            "my diagnosis": 2.0, "i was diagnosed": 2.0, "i've been diagnosed": 2.0,
            "diagnosed with": 1.5, "i might have": 1.5,
            "i think i have": 1.5, "i heard voices": 2.0, "my head": 1.0, "head is loud": 2.0,
            "i'm struggling": 1.5, "struggling with my": 1.0, "my meds": 1.0,
        },
        "community": {
            # family, friends, peers
            **_entries(_FAMILY, 1.0),
            **_entries((f"my {m}" for m in _FAMILY), 1.5),
            # faith groups
            **_entries(("church", "pastor", "priest", "mosque", "imam", "temple", "faith",
                        "pray it away", "prayer"), 1.5),
            # society, the public, media
            **_entries(("society", "the public", "the media", "the news", "community",
                        "school", "schools", "teachers", "neighbours", "strangers",
                        "everyone", "people", "on this app"), 0.5),
            # "people with" adds to the condition word that follows it
            **_entries(("people with", "someone with", "anyone with", "folks with",
                        "patients with", "people living with"), 0.5),
            "these people": 1.5,
            # slurs aimed at other people
            **_entries(_SLURS, 1.5),
            **_entries(_SLUR_WORDS[:3], 0.5),
            **_entries((f"{lead} {word}" for lead in _SLUR_LEADS for word in _SLUR_WORDS[:4]),
                       1.5),
            # a mental-health topic with no first-person or professional anchor
            **_entries(_CONDITIONS, 1.0),
            **_entries(("depressed", "suicidal", "self harm", "hearing voices", "voices"), 1.0),
        },
        "professional": {
            **_entries(_CLINICIANS, 2.0),
            **_entries((f"my {c}" for c in _CLINICIANS), 2.5),
            **_entries(_CARE, 1.5),
            **_entries(_TREATMENTS, 1.5),
            **_entries(_WORK, 1.5),
            **_entries(("research", "study", "clinical trial", "trial shows", "funding",
                        "new research"), 1.5),
            **_entries(("appointment", "patients", "job", "intervention", "treat"), 1.0),
        },
    },
    "theme": {
        "awareness": {
            "stigma": 2.0, "end the stigma": 3.0, "break the stigma": 3.0,
            # campaign hashtags get tacked onto anything: weak alone
            **_entries(("#endthestigma", "#mentalhealthawareness", "#timetotalk",
                        "#bellletstalk", "#breakthestigma"), 0.5),
            "awareness": 2.0, "myth": 2.0,
            "not a character flaw": 3.0, "character flaw": 2.0, "not a choice": 2.5,
            "medical condition": 2.0, "it's time to talk": 3.0, "time to talk": 2.0,
            "no shame": 2.0, "words matter": 3.0,
            "stop using": 2.0, "stop calling": 2.0, "as an insult": 2.0,
            "more common than you think": 3.0, "in their lifetime": 2.0, "1 in 4": 2.0,
            "the data": 1.5, "study finds": 2.0, "new research": 2.0, "research": 1.0,
            "study": 1.0, "trial shows": 2.0, "discrimination": 2.0, "misconception": 2.0,
            "stereotype": 2.0, "stereotypes": 2.0, "reminder": 0.5, "wake up": 1.5,
            "the truth": 1.5, "victims of": 1.5, "more likely to be victims": 3.0,
            "please stop": 1.5, "not alone": 1.5, "it's ok to not be ok": 2.0,
            "they are people": 2.0, "not laziness": 2.0, "normalise": 2.0, "normalize": 2.0,
            "talk about": 1.0, "well done": 1.0, "awareness day": 2.0, "cut again": 1.5,
            "funding": 1.0,
        },
        "actionable": {
            "sign the petition": 3.0, "petition": 2.0, "sign if": 2.0, "donate": 2.5,
            "volunteer": 2.5, "write to your": 3.0, "write to": 1.5, "your mp": 2.0,
            "contact your": 2.5, "call your": 2.0, "vote": 1.5, "join us": 2.0, "join": 1.0,
            "share this": 1.5, "check in on": 2.5, "call out": 2.5, "report it": 2.5,
            "speak up": 2.0, "fund": 2.0, "ask about": 1.5, "here's how": 2.5,
            "how you can help": 3.0, "what you can do": 3.0, "tips": 1.5, "steps": 1.5,
            "you have rights": 2.0, "know your rights": 2.5, "learn the signs": 2.5,
            "link below": 1.0, "link in bio": 1.0, "free training": 2.0,
            # calls to act against people (stigmatising, but still a call to act)
            "should be locked up": 3.0, "locked up": 2.0, "lock them": 2.5,
            "lock them all up": 3.0, "should be banned": 3.0, "banned": 1.5,
            "keep them away": 2.5, "away from our": 2.0, "should section": 2.5,
            "no business": 1.5,
        },
        "help_seeking": {
            "does anyone know": 3.0, "anyone know": 2.0, "any advice": 3.0,
            "advice please": 3.0, "need advice": 3.0, "looking for advice": 3.0,
            "any tips": 2.0, "can anyone recommend": 3.0, "recommend": 1.5,
            "where do i start": 3.0, "where do i even start": 3.0, "where can i": 2.5,
            "how do i": 2.0, "how do you": 1.5, "how can i": 2.0, "how to get": 2.0,
            "how to find": 2.0, "how to help": 2.0, "is it normal": 2.0, "anyone else": 1.5,
            "has anyone": 2.0, "should i": 1.5, "what should i": 2.0, "need help": 2.0,
            "help me": 2.0, "please help": 2.0, "i need someone": 2.0,
            "someone to talk to": 2.0, "anyone up to talk": 3.0, "anyone up": 1.5,
            "talk to someone": 1.5, "reach out": 1.5, "dms open": 1.5, "booked an appointment":
            2.0, "first appointment": 1.5, "side effects": 1.0, "i think i might have": 2.0,
            "helpline": 1.5, "hotline": 1.5, "?": 0.5, "feeling lost": 1.0, "struggling": 0.5,
        },
        "personal_story": {
            "my diagnosis": 2.0, "years since": 2.0, "i used to": 2.0, "i was diagnosed": 2.5,
            "i've been": 1.0, "i got through": 2.5, "got through": 1.5, "i'm proud": 2.0,
            "so proud": 1.5, "proud of": 1.5, "i remember": 2.0, "when i was": 2.0,
            "my story": 3.0, "my journey": 2.5, "my recovery": 2.5, "recovery": 1.0,
            "still here": 1.5, "small wins": 2.0, "rough week": 1.5, "rough day": 1.5,
            "today my": 1.5, "i finally": 1.5, "i heard voices": 2.0, "back at work": 1.5,
            "i'm living with": 2.0, "living with": 1.0, "lives with": 1.5,
            "found out my": 1.5, "told my": 1.5, "sat with my": 1.5, "my life back": 2.5,
            "listened to me": 2.0, "i'd never": 1.5, "i would never": 1.5, "would never": 1.0,
            "i'd move": 1.5, "i'd be": 1.0, "i see": 1.0, "as a": 0.5,
            # talking about one's own condition, and what others think of me
            **_entries((f"my {c}" for c in _CONDITIONS), 1.0),
            "thinks i'm": 1.5, "i'm still": 1.5, "years with": 1.5, "makes me": 1.0,
            "thank you": 1.0, "i'm so": 1.0, "i'm just": 1.0,
        },
    },
    "help_topic": {
        "finding_care": {
            **_entries(_CLINICIANS, 1.5), "near": 1.0, "recommend": 1.5, "good": 0.5,
            "service": 1.0, "services": 1.0, "clinic": 1.5, "how to get": 1.0,
            "where can i": 1.0, "booked an appointment": 1.5, "appointment": 1.0,
        },
        "medication": {
            **_entries(_TREATMENTS, 1.5), "side effects": 3.0, "dose": 2.0,
            "been on it": 2.0, "started": 1.0,
        },
        "waiting_access": {
            "wait": 2.0, "waiting": 2.0, "waiting list": 3.0, "weeks": 1.5, "months": 1.5,
            "referral": 2.0, "access": 1.5,
        },
        "telling_others": {
            "tell your": 2.5, "tell my": 2.5, "telling": 2.0, "how do you tell": 3.0,
            "open up": 2.0, "come out": 1.5, "disclose": 2.5,
        },
        "helping_someone": {
            "how to help": 3.0, "help my": 2.5, "support my": 2.5, "my friend": 1.0,
            **_entries((f"my {m} has" for m in _FAMILY), 2.5),
        },
        "crisis_talk": {
            "anyone up": 3.0, "talk to someone": 2.5, "someone to talk to": 3.0,
            "can't sleep": 2.0, "dms open": 2.5, "struggling": 1.0, "helpline": 2.5,
            "hotline": 2.5, "crisis": 2.5, "tonight": 1.0,
        },
        "diagnosis": {
            "i might have": 3.0, "i think i have": 3.0, "where do i start": 2.5,
            "where do i even start": 2.5, "diagnosed": 2.0, "diagnosis": 2.0,
            "is it normal": 1.5, "symptoms": 2.0,
        },
        "cost": {
            "afford": 3.0, "insurance": 3.0, "cost": 2.5, "free": 1.5, "price": 2.0,
            "expensive": 2.5, "pay": 1.5,
        },
    },
}
"""The seed lexicon: kind -> class -> {word or phrase: weight}. Edit freely (or pass your own
mapping to the ``tag_*`` functions): phrases are matched as whole words, case-insensitively,
with straight or curly apostrophes alike; a "?" entry matches a question mark."""

_TOKEN_RE = re.compile(r"[#@]?[a-z0-9&]+(?:'[a-z]+)*|[?!.,;:]")
_BOUNDARY = frozenset("?!.,;:")


# --- the lexicon matcher --------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Lower-case words (apostrophes kept: "don't"), hashtags, and ``? ! . , ; :`` as tokens.

    Punctuation stays a token so that phrases never match across it and a negation never
    reaches over it.
    """
    return _TOKEN_RE.findall(text.lower().replace("\u2019", "'"))


class _Entry(NamedTuple):
    label: int
    weight: float
    term: str


@dataclass(frozen=True)
class _Matcher:
    """A lexicon compiled for one kind into a word trie: each node maps the next word to a
    child node, and ``_END`` to the entries of the phrase ending there. Matching walks the
    trie from each token, so it costs one dict lookup per word, however big the lexicon."""

    labels: tuple[str, ...]
    fallback: str
    negation: bool
    trie: dict
    fast: dict  # the same trie, each phrase's end holding ((class index, weight), ...) only
    dyadic: bool  # every weight a multiple of 1/64: scores are exact, rounding changes nothing


_END = ""  # no token is empty, so this key cannot clash with a word


@lru_cache(maxsize=32)
def _compile(kind: str, frozen: tuple) -> _Matcher:
    labels = tuple(label for label, _ in frozen)
    trie: dict = {}
    for index, (_, terms) in enumerate(frozen):
        for term, weight in terms:
            tokens = tokenize(term)
            if not tokens:
                continue
            node = trie
            for token in tokens:
                node = node.setdefault(token, {})
            node.setdefault(_END, []).append(_Entry(index, weight, term))
    dyadic = all(_is_dyadic(weight) for _, terms in frozen for _, weight in terms)
    return _Matcher(labels, FALLBACK[kind], NEGATION_APPLIES[kind], trie, _fast_trie(trie),
                    dyadic)


def _is_dyadic(value: float) -> bool:
    """A multiple of 1/64 below 2**30 in size: sums of such weights are exact floats with at
    most six decimals, so ``round(score, 9)`` returns the score itself."""
    return abs(value) < 2**30 and float(value * 64).is_integer()


def _exact(matcher: _Matcher) -> bool:
    """Whether ``matcher``'s scores may be compared unrounded (same decisions as ``_decide``):
    its weights and ``MIN_SCORE`` are all multiples of 1/64 (the seed lexicon's are)."""
    return matcher.dyadic and _is_dyadic(MIN_SCORE)


def _fast_trie(node: dict) -> dict:
    """A copy of a trie whose phrase ends hold plain ``(class index, weight)`` pairs, in the
    entries' order (so scores add up in the same order, to the same floats)."""
    return {key: (tuple((e.label, e.weight) for e in child) if key == _END
                  else _fast_trie(child)) for key, child in node.items()}


def _matcher(kind: str, lexicon: Mapping[str, Mapping[str, float]] | None) -> _Matcher:
    """The compiled matcher of ``lexicon`` (one kind's class -> terms; default ``LEXICON``)."""
    if kind not in KINDS:
        raise CorpusError(f"Unknown tag kind {kind!r}; use one of {', '.join(KINDS)}.")
    classes = LEXICON[kind] if lexicon is None else lexicon
    check_lexicon(classes, kind)
    order = [c for c in PRIORITY[kind] if c in classes]
    frozen = tuple((label, tuple(sorted((str(t), float(w)) for t, w in classes[label].items())))
                   for label in order)
    return _compile(kind, frozen)


class Hit(NamedTuple):
    """One lexicon entry found in a post."""

    term: str
    label: str
    weight: float
    negated: bool


def _find(tokens: Sequence[str], matcher: _Matcher) -> list[tuple[int, _Entry, bool]]:
    """Leftmost-longest matches: (position, entry, negated) for every entry found."""
    found = []
    trie, negation = matcher.trie, matcher.negation
    i, n = 0, len(tokens)
    while i < n:
        node = trie.get(tokens[i])
        if node is None:
            i += 1
            continue
        longest, end, j = node.get(_END), i + 1, i + 1
        while j < n:
            node = node.get(tokens[j])
            if node is None:
                break
            j += 1
            if _END in node:
                longest, end = node[_END], j
        if longest is None:
            i += 1
            continue
        negated = negation and _negated(tokens, i)
        found.extend((i, entry, negated) for entry in longest)
        i = end
    return found


def _negated(tokens: Sequence[str], start: int) -> bool:
    """A negation word within ``NEGATION_WINDOW`` tokens before ``start``, not across
    punctuation."""
    for j in range(start - 1, max(start - 1 - NEGATION_WINDOW, -1), -1):
        if tokens[j] in _BOUNDARY:
            return False
        if tokens[j] in NEGATORS:
            return True
    return False


def _token_scores(tokens: Sequence[str], matcher: _Matcher) -> list[float]:
    """Each class's summed weight of the (not negated) entries found in ``tokens``."""
    scores = [0.0] * len(matcher.labels)
    for _, entry, negated in _find(tokens, matcher):
        if not negated:
            scores[entry.label] += entry.weight
    return scores


def _scores(text: str, matcher: _Matcher) -> list[float]:
    return _token_scores(tokenize(text), matcher)


def _decide(scores: Sequence[float], matcher: _Matcher) -> str:
    """The class with the highest score (first in priority order on a tie) if it reaches
    ``MIN_SCORE``, else the fallback class."""
    best, best_score = matcher.fallback, -math.inf
    for label, score in zip(matcher.labels, scores, strict=True):
        if round(score, 9) > best_score:  # strictly: the earlier class keeps a tie
            best, best_score = label, round(score, 9)
    return best if best_score >= MIN_SCORE else matcher.fallback


def _fast_tag(tokens: list[str], matcher: _Matcher) -> str:
    """``_decide(_token_scores(tokens, matcher), matcher)`` — the same tag from the same sums in
    the same order — without building match tuples: only tokens that start a lexicon entry
    are visited (one C-level pass finds them), and a post with none is the fallback at once.
    ``tests/test_insights.py`` checks it equals the plain path on every sample post."""
    trie = matcher.fast
    return _fast_tag_from(tokens, [i for i, token in enumerate(tokens) if token in trie],
                          matcher, _exact(matcher))


def _fast_tag_from(tokens: list[str], starts: list[int], matcher: _Matcher,
                   exact: bool = False) -> str:
    """``_fast_tag`` given the positions whose token may start an entry: every position
    where ``matcher``'s trie has the token, and possibly more (another kind's starts, so that
    ``tag_frame`` scans a post once for both kinds); the others are skipped. ``exact``
    (``_exact(matcher)``): compare the scores as they are, since rounding would not change
    them."""
    if not starts:
        return matcher.fallback
    trie = matcher.fast
    scores = [0.0] * len(matcher.labels)
    n, free, negation = len(tokens), 0, matcher.negation
    for i in starts:
        if i < free:  # inside a phrase already matched (leftmost-longest)
            continue
        node = trie.get(tokens[i])
        if node is None:  # starts another kind's entry only
            continue
        longest, end, j = node.get(_END), i + 1, i + 1
        while j < n:
            node = node.get(tokens[j])
            if node is None:
                break
            j += 1
            found = node.get(_END)
            if found is not None:
                longest, end = found, j
        if longest is None:
            continue
        free = end
        if negation and _negated(tokens, i):
            continue
        for label, weight in longest:
            scores[label] += weight
    # _decide's rule with C-level max/index: the first class (priority order) holding the
    # highest rounded score wins, if that score reaches MIN_SCORE
    if exact:
        top = max(scores)
        return matcher.labels[scores.index(top)] if top >= MIN_SCORE else matcher.fallback
    rounded = [round(score, 9) for score in scores]
    top = max(rounded)
    return matcher.labels[rounded.index(top)] if top >= MIN_SCORE else matcher.fallback


def _tag_one(text: object, matcher: _Matcher, exact: bool = False) -> str:
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return matcher.fallback
        text = str(text)
    tokens = tokenize(text)
    trie = matcher.fast
    return _fast_tag_from(tokens, [i for i, token in enumerate(tokens) if token in trie],
                          matcher, exact)


def _tag_distinct(texts: Iterable[object], function: Any) -> np.ndarray:
    """``function`` applied once per distinct text, spread back to every position."""
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts,
                       dtype=object).to_numpy()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    tagged = np.empty(len(uniques) + 1, dtype=object)
    for position, text in enumerate(uniques):
        tagged[position] = function(text)
    tagged[-1] = function(None)
    return tagged[codes]  # code -1 (missing) picks the last element: the fallback


def tag(texts: Iterable[object], kind: str,
        lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """One class per text for ``kind`` ("domain", "theme" or "help_topic") from the lexicon.

    ``lexicon``: class -> {term: weight} for this kind (default ``LEXICON[kind]``). Missing
    texts get the fallback class. Each distinct text is tagged once.
    """
    matcher = _matcher(kind, lexicon)
    exact = _exact(matcher)
    return _tag_distinct(texts, lambda text: _tag_one(text, matcher, exact)).astype(str)


def tag_domains(texts: Iterable[object],
                lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """``self`` / ``community`` / ``professional`` / ``none`` per text (seed lexicon, no labels
    needed; pass ``lexicon`` — class -> {term: weight} — to use an edited one)."""
    return tag(texts, "domain", lexicon)


def tag_themes(texts: Iterable[object],
               lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """``awareness`` / ``actionable`` / ``help_seeking`` / ``personal_story`` / ``other`` per
    text (seed lexicon, no labels needed; ``lexicon`` as for ``tag_domains``)."""
    return tag(texts, "theme", lexicon)


@dataclass(frozen=True)
class Explanation:
    """Why a post got its tag: the entries found, their weights and each class's score."""

    text: str
    kind: str
    tag: str
    scores: dict[str, float]
    hits: list[Hit] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The entries found as rows: ``term, class, weight, counted`` (False: negated)."""
        return pd.DataFrame({
            "term": [h.term for h in self.hits], "class": [h.label for h in self.hits],
            "weight": [h.weight for h in self.hits],
            "counted": [not h.negated for h in self.hits],
        })

    def words(self) -> str:
        """One plain sentence: the tag and the entries that decided it."""
        counted = [h for h in self.hits if not h.negated and h.label == self.tag]
        if not counted:
            return (f"{self.kind.capitalize()}: {self.tag} — no {self.kind} class reached a "
                    f"score of {MIN_SCORE:g}.")
        found = ", ".join(f'"{h.term}" ({h.weight:g})' for h in counted)
        score = self.scores[self.tag]
        return f"{self.kind.capitalize()}: {self.tag} (score {score:g}) from {found}."


def explain(text: str, kind: str = "domain",
            lexicon: Mapping[str, Mapping[str, float]] | None = None) -> Explanation:
    """Which lexicon entries fire in ``text`` for ``kind``, their weights, whether a negation
    cancelled them, each class's score and the resulting tag (same rule as ``tag``)."""
    matcher = _matcher(kind, lexicon)
    text = "" if text is None else str(text)
    hits = [Hit(entry.term, matcher.labels[entry.label], entry.weight, negated)
            for _, entry, negated in _find(tokenize(text), matcher)]
    scores = _scores(text, matcher)
    return Explanation(text, kind, _decide(scores, matcher),
                       dict(zip(matcher.labels, scores, strict=True)), hits)


def explain_domain(text: str, lexicon: Mapping[str, Mapping[str, float]] | None = None
                   ) -> Explanation:
    """``explain`` for the domain tag."""
    return explain(text, "domain", lexicon)


def explain_theme(text: str, lexicon: Mapping[str, Mapping[str, float]] | None = None
                  ) -> Explanation:
    """``explain`` for the theme tag."""
    return explain(text, "theme", lexicon)


# --- editing the lexicon --------------------------------------------------------------------


def check_lexicon(classes: Mapping[str, Mapping[str, float]], kind: str) -> None:
    """Raise ``CorpusError`` (plain words) for unknown classes, empty terms or bad weights."""
    known = set(PRIORITY[kind])
    for label, terms in classes.items():
        if label not in known:
            raise CorpusError(
                f"The {kind} word list has a class {label!r} that the tagger does not know; "
                f"use one of {', '.join(PRIORITY[kind])}.")
        for term, weight in terms.items():
            if not tokenize(str(term)):
                raise CorpusError(f"The {kind} word list for {label!r} holds an empty term "
                                  f"({term!r}); give words or a phrase.")
            if not isinstance(weight, int | float) or not math.isfinite(weight):
                raise CorpusError(f"The weight of {term!r} ({label}) must be a number, got "
                                  f"{weight!r}.")


def add_terms(lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None, kind: str,
              label: str, terms: Iterable[str], weight: float = 1.0
              ) -> dict[str, dict[str, dict[str, float]]]:
    """A copy of the whole ``lexicon`` (default ``LEXICON``) with ``terms`` added to one class
    (a term already there takes the new weight). The original is left as it was."""
    new = copy.deepcopy(dict(LEXICON if lexicon is None else lexicon))
    new = {k: {c: dict(t) for c, t in v.items()} for k, v in new.items()}
    cleaned = [tokenize(str(t)) for t in terms]
    added = {" ".join(tokens): float(weight) for tokens in cleaned
             if any(t == "?" or t not in _BOUNDARY for t in tokens)}
    if not added:
        raise CorpusError("Type at least one word or phrase to add.")
    new.setdefault(kind, {}).setdefault(label, {}).update(added)
    check_lexicon(new[kind], kind)
    return new


def lexicon_table(lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None
                  ) -> pd.DataFrame:
    """The whole lexicon as rows ``kind, class, term, weight`` (to show or save as CSV)."""
    lexicon = LEXICON if lexicon is None else lexicon
    rows = [(kind, label, term, float(weight))
            for kind, classes in lexicon.items() for label, terms in classes.items()
            for term, weight in terms.items()]
    return pd.DataFrame(rows, columns=["kind", "class", "term", "weight"])


def lexicon_from_table(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """The nested lexicon from rows ``kind, class, term, weight`` (e.g. an edited CSV)."""
    missing = {"kind", "class", "term", "weight"} - set(table.columns)
    if missing:
        raise CorpusError(f"A word-list table needs the columns kind, class, term and weight; "
                          f"{', '.join(sorted(missing))} missing.")
    lexicon: dict[str, dict[str, dict[str, float]]] = {}
    for kind, label, term, weight in table[["kind", "class", "term", "weight"]].itertuples(
            index=False):
        lexicon.setdefault(str(kind), {}).setdefault(str(label), {})[str(term)] = float(weight)
    for kind, classes in lexicon.items():
        if kind not in KINDS:
            raise CorpusError(f"Unknown kind {kind!r} in the word list; use {', '.join(KINDS)}.")
        check_lexicon(classes, kind)
    return lexicon


# --- trained taggers ------------------------------------------------------------------------

_SYNONYMS = {"none": None, "no": None, "n/a": None, "help": "help_seeking",
             "help_seeking": "help_seeking", "helpseeking": "help_seeking",
             "resource_request": "help_seeking", "story": "personal_story",
             "personal": "personal_story", "action": "actionable", "advice": "actionable",
             "actionable_advice": "actionable", "internalised": "self", "internalized": "self",
             "social": "community", "public": "community", "structural": "professional",
             "workplace": "professional", "clinical": "professional"}


def normalise_tags(values: Iterable[object], kind: str) -> pd.Series:
    """Coded domain/theme values in this module's spelling ("help-seeking", "Personal story",
    "none" → ``help_seeking``, ``personal_story``, ``other`` for themes); empty cells stay
    missing. ``CorpusError`` names any value that is none of the classes."""
    if kind not in ("domain", "theme"):
        raise CorpusError(f"Coded tags are domains or themes, not {kind!r}.")
    series = pd.Series(list(values) if not isinstance(values, pd.Series) else values,
                       dtype=object)
    keys = series.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                      else re.sub(r"[\s\-/]+", "_", str(v).strip().lower()))
    classes = set(CLASSES[kind])

    def one(key: object) -> str | None:
        if not isinstance(key, str) or key == "":
            return None
        if key in classes:
            return key
        if key in _SYNONYMS:
            return _SYNONYMS[key] or FALLBACK[kind]
        return "?"

    out = keys.map(one)
    bad = sorted({str(v) for v, o in zip(series, out, strict=True) if o == "?"})
    if bad:
        raise CorpusError(
            f"Some coded {kind} values are not {kind} classes: {', '.join(bad[:5])}. Use "
            f"{', '.join(CLASSES[kind])} (spaces, hyphens and capitals are fine).")
    return out.astype("string")


@dataclass(frozen=True)
class TaggerReport:
    """How well a trained tagger did in cross-validation (out-of-fold predictions)."""

    kind: str
    macro_f1: Any  # metrics.Estimate(value, ci_low, ci_high, n)
    per_class: pd.DataFrame  # class, f1, ci_low, ci_high, support
    n: int
    folds: int

    def words(self) -> str:
        """One plain sentence about the tagger's cross-validated quality."""
        f1 = self.macro_f1
        return (f"Cross-validated macro-F1 {f1.value:.2f} (95% CI {f1.ci_low:.2f} to "
                f"{f1.ci_high:.2f}) over {self.n} coded posts, {self.folds} folds.")


def train_tagger(texts: Sequence[str], labels: Sequence[object], kind: str = "domain", *,
                 folds: int = 5, seed: int = 0, n_boot: int = 1000) -> Any:
    """A TF-IDF + logistic regression pipeline fitted on coded posts, to use instead of the
    lexicon once people have coded enough (``tag_with``).

    Posts with no code are left out; labels are normalised (``normalise_tags``). Quality is
    measured first by stratified ``folds``-fold cross-validation (fewer folds when a class has
    fewer posts): macro-F1 and per-class F1 with percentile-bootstrap 95% CIs over the posts.
    The report is on the returned pipeline as ``cv_report_`` (a ``TaggerReport``), the kind as
    ``kind_``. ``ModelError`` when fewer than two classes, or a class with under two posts.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = normalise_tags(labels, kind)
    frame = pd.DataFrame({"text": pd.Series(list(texts), dtype=object).astype(str).to_numpy(),
                          "y": y.to_numpy()})
    frame = frame[frame["y"].notna() & frame["text"].str.strip().ne("")]
    counts = frame["y"].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        few = ", ".join(f"{c}: {n}" for c, n in counts.items()) or "no coded posts"
        raise ModelError(
            f"A {kind} tagger needs at least two classes with at least two coded posts each "
            f"(got {few}). Code more posts, or keep using the word lists.")
    n_folds = int(min(folds, counts.min()))
    pipeline = _tagger_pipeline(seed)
    split = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    texts_, y_ = frame["text"].tolist(), frame["y"].astype(str).to_numpy()
    predicted = cross_val_predict(pipeline, texts_, y_, cv=split)
    pipeline.fit(texts_, y_)
    pipeline.kind_ = kind
    pipeline.cv_report_ = _tagger_report(kind, y_, predicted, n_folds, n_boot, seed)
    return pipeline


def _tagger_pipeline(seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                        token_pattern=r"(?u)[#\w][\w']*"),
        LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed))


def _tagger_report(kind: str, truth: np.ndarray, predicted: np.ndarray, folds: int,
                   n_boot: int, seed: int) -> TaggerReport:
    from sklearn.metrics import f1_score

    from stigma_core.metrics import Estimate

    classes = [c for c in CLASSES[kind] if c in set(truth)]
    per_class = f1_score(truth, predicted, labels=classes, average=None, zero_division=0)
    boot = _bootstrap_f1(truth, predicted, classes, n_boot, seed)
    low, high = np.nanpercentile(boot, [2.5, 97.5], axis=0)
    table = pd.DataFrame({
        "class": classes, "f1": per_class, "ci_low": low[:-1], "ci_high": high[:-1],
        "support": [int((truth == c).sum()) for c in classes]})
    macro = Estimate(float(per_class.mean()), float(low[-1]), float(high[-1]), len(truth))
    return TaggerReport(kind, macro, table, len(truth), folds)


def _bootstrap_f1(truth: np.ndarray, predicted: np.ndarray, classes: list[str], n_boot: int,
                  seed: int) -> np.ndarray:
    """Per-class F1 and their mean (last column) for each bootstrap resample of the posts,
    vectorised: each resample is a row of counts, confusion cells one matrix product."""
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    t = np.array([index.get(v, k) for v in truth])
    p = np.array([index.get(v, k) for v in predicted])
    cells = np.zeros((len(t), (k + 1) ** 2))
    cells[np.arange(len(t)), t * (k + 1) + p] = 1.0
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(t), np.full(len(t), 1 / len(t)), size=n_boot)
    confusion = (weights @ cells).reshape(n_boot, k + 1, k + 1)[:, :k + 1, :k + 1]
    tp = confusion[:, np.arange(k), np.arange(k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * tp / (confusion[:, :k, :].sum(axis=2) + confusion[:, :, :k].sum(axis=1))
    f1 = np.where(np.isnan(f1), 0.0, f1)
    return np.column_stack([f1, f1.mean(axis=1)])


def tag_with(model: Any, texts: Iterable[object]) -> np.ndarray:
    """Tags from a trained tagger (``train_tagger``), one prediction per distinct text;
    missing or empty texts get the fallback class of the tagger's kind."""
    kind = getattr(model, "kind_", "domain")
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
    codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
    present = [str(u) for u in uniques]
    predicted = list(model.predict(present)) if present else []
    predicted = [FALLBACK[kind] if not t.strip() else p
                 for t, p in zip(present, predicted, strict=True)]
    return np.array(predicted + [FALLBACK[kind]], dtype=object)[codes].astype(str)


def tag_frame(texts: Iterable[object], *,
              lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
              domain_model: Any = None, theme_model: Any = None) -> pd.DataFrame:
    """``domain`` and ``theme`` columns for ``texts``: from the trained taggers where given,
    else from the (edited) lexicon — both lexicon kinds from one tokenisation per distinct
    text."""
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts,
                       dtype=object).reset_index(drop=True)
    lexicon = LEXICON if lexicon is None else lexicon
    kinds = [kind for kind, model in (("domain", domain_model), ("theme", theme_model))
             if model is None]
    matchers = [_matcher(kind, lexicon.get(kind)) for kind in kinds]
    out = pd.DataFrame(index=values.index)
    if matchers:
        codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
        columns = [np.empty(len(uniques) + 1, dtype=object) for _ in matchers]
        pairs = [(column, matcher, _exact(matcher))
                 for column, matcher in zip(columns, matchers, strict=True)]
        first = frozenset().union(*(m.fast.keys() for m in matchers))  # one scan for all
        for position, text in enumerate(uniques):
            tokens = tokenize(text if isinstance(text, str) else str(text))
            starts = [i for i, token in enumerate(tokens) if token in first]
            for column, matcher, exact in pairs:
                column[position] = _fast_tag_from(tokens, starts, matcher, exact)
        for column, matcher, kind in zip(columns, matchers, kinds, strict=True):
            column[-1] = matcher.fallback  # code -1: a missing text
            out[kind] = column[codes].astype(str)
    if domain_model is not None:
        out["domain"] = tag_with(domain_model, values)
    if theme_model is not None:
        out["theme"] = tag_with(theme_model, values)
    return out[["domain", "theme"]]


# --- shares, cross-tabs and tests -----------------------------------------------------------


def group_keys(frame: pd.DataFrame, by: str | None) -> np.ndarray:
    """Group label per row: ``"All"`` when ``by`` is None; missing or blank values form the
    group ``"(not known)"``. ``CorpusError`` when the column is absent."""
    if by is None:
        return np.full(len(frame), ALL, dtype=object)
    if by not in frame.columns:
        raise CorpusError(f"There is no column {by!r} to break the posts down by; map it on "
                          "the Data page.")
    keys = frame[by].astype("string").str.strip()
    return keys.mask(keys.isna() | (keys == ""), MISSING_GROUP).to_numpy(dtype=object)


def _wilson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from stigma_core.metrics import wilson_interval

    bounds = np.array([wilson_interval(int(a), int(b), alpha)
                       for a, b in zip(k, n, strict=True)], dtype=float).reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


def tag_shares(frame: pd.DataFrame, column: str, by: str | None = None, *,
               classes: Sequence[str] | None = None, min_n: int = DEFAULT_MIN_N,
               alpha: float = 0.05, sort_groups: bool = False) -> pd.DataFrame:
    """Each class's share of the posts in each group, with Wilson 95% CIs.

    Long table, one row per group and class: ``group, tag, n`` (posts in the group), ``k``
    (posts of the class), ``share, ci_low, ci_high, too_few``. Groups sort by n (largest
    first), or by label with ``sort_groups`` (periods); classes in ``classes`` order (default:
    the kind's classes when the column is ``domain``/``theme``, else as found). Shares of
    groups under ``min_n`` posts are NaN (too few to read).
    """
    if column not in frame.columns:
        raise CorpusError(f"There is no column {column!r} with tags in these posts.")
    if min_n < 1:
        raise CorpusError(f"The minimum posts per group must be at least 1 (got {min_n}).")
    tags = frame[column].astype("string").fillna(MISSING_GROUP).to_numpy(dtype=object)
    classes = list(classes if classes is not None else
                   CLASSES.get(column) or pd.unique(tags))
    counts = pd.crosstab(pd.Series(group_keys(frame, by), name="group"),
                         pd.Series(tags, name="tag"))
    counts = counts.reindex(columns=classes, fill_value=0)
    n = pd.Series(group_keys(frame, by)).value_counts()
    order = sorted(n.index) if sort_groups else sorted(n.index, key=lambda g: (-n[g], str(g)))
    rows = [(g, c, int(n[g]), int(counts.loc[g, c]) if g in counts.index else 0)
            for g in order for c in classes]
    table = pd.DataFrame(rows, columns=["group", "tag", "n", "k"])
    low, high = _wilson(table["k"].to_numpy(), table["n"].to_numpy(), alpha)
    too_few = table["n"].to_numpy() < min_n
    table["share"] = np.where(too_few, np.nan, table["k"] / table["n"].clip(lower=1))
    table["ci_low"] = np.where(too_few, np.nan, low)
    table["ci_high"] = np.where(too_few, np.nan, high)
    table["too_few"] = too_few
    return table


def stigma_labels(predicted: pd.Series) -> pd.Series:
    """0/1 (or False/True) predictions as "stigmatising" / "other"; missing stays missing."""
    values = pd.to_numeric(predicted.astype("object"), errors="coerce")
    return pd.Series(np.where(values == 1, "stigmatising", "other"), index=predicted.index,
                     dtype="string").where(values.notna())


def stigma_by_tag(frame: pd.DataFrame, column: str, *,
                  predicted_col: str = "stigma_predicted", min_n: int = DEFAULT_MIN_N,
                  alpha: float = 0.05) -> pd.DataFrame:
    """The share of posts the model flags stigmatising within each class of ``column``:
    ``tag, n, k, share, ci_low, ci_high, too_few`` (Wilson 95% CIs)."""
    if predicted_col not in frame.columns:
        raise CorpusError("These posts have no stigma predictions yet: choose a model on Model "
                          "lab or Prevalence to score them.")
    table = tag_shares(frame.assign(_stigma=stigma_labels(frame[predicted_col])), "_stigma", column,
                       classes=["stigmatising"], min_n=min_n, alpha=alpha)
    order = {c: i for i, c in enumerate(CLASSES.get(column, ()))}
    table = table.drop(columns="tag").rename(columns={"group": "tag"})
    return table.sort_values("tag", key=lambda s: s.map(lambda v: order.get(v, len(order))),
                             kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class MixTest:
    """A chi-square test of independence: does the mix of ``column`` differ between groups?"""

    column: str
    by: str
    chi2: float
    dof: int
    p: float
    cramers_v: float
    n: int
    groups: list[str]
    sparse: bool  # more than 20% of expected counts under 5: read p with caution
    words: str

    @property
    def differs(self) -> bool:
        """True when p < 0.05."""
        return bool(self.p < 0.05)

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON and tables."""
        return {"column": self.column, "by": self.by, "chi2": self.chi2, "dof": self.dof,
                "p": self.p, "cramers_v": self.cramers_v, "n": self.n, "groups": self.groups,
                "sparse": self.sparse, "differs": self.differs, "words": self.words}


def effect_words(v: float) -> str:
    """Cramér's V in words (Cohen's rough bands): negligible, small, medium, large."""
    if not math.isfinite(v):
        return "unknown"
    return ("negligible" if v < 0.1 else "small" if v < 0.3 else "medium" if v < 0.5
            else "large")


def mix_test(frame: pd.DataFrame, column: str, by: str, *, min_n: int = DEFAULT_MIN_N,
             what: str | None = None) -> MixTest:
    """Chi-square test of independence between ``column`` (e.g. domain) and ``by`` (e.g.
    platform) over the groups with at least ``min_n`` posts ("(not known)" left out), with
    Cramér's V and a plain sentence: "differs" (p < 0.05) or "does not clearly differ"."""
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    what = what or f"{column} mix"
    across = _plural(by)
    keys = pd.Series(group_keys(frame, by), index=frame.index)
    sizes = keys.value_counts()
    kept = [g for g in sizes.index if sizes[g] >= min_n and g != MISSING_GROUP]
    rows = keys.isin(kept) & frame[column].notna()
    table = pd.crosstab(keys[rows], frame.loc[rows, column].astype(str))
    table = table.loc[:, table.sum(axis=0) > 0]
    n = int(table.to_numpy().sum())
    if table.shape[0] < 2 or table.shape[1] < 2:
        reason = (f"fewer than two {by} groups have {min_n} or more posts"
                  if table.shape[0] < 2 else f"all posts share one {column} class")
        return MixTest(column, by, math.nan, 0, math.nan, math.nan, n, list(table.index), False,
                       f"The {what} cannot be compared across {across}: {reason}.")
    chi2, p, dof, expected = chi2_contingency(table.to_numpy())
    v = float(association(table.to_numpy(), method="cramer"))
    sparse = bool((expected < 5).mean() > 0.2)
    verdict = "differs" if p < 0.05 else "does not clearly differ"
    words = (f"The {what} {verdict} across {across} ({len(table)} groups, n = {n:,}; "
             f"chi-square = {chi2:.1f}, df = {dof}, {_p_text(p)}, Cramér's V = {v:.2f}, "
             f"a {effect_words(v)} difference).")
    if sparse:
        words += " Many cells hold few posts, so read the p-value with caution."
    return MixTest(column, by, float(chi2), int(dof), float(p), v, n,
                   [str(g) for g in table.index], sparse, words)


def _plural(by: str) -> str:
    """'platforms', 'countries', 'periods', 'gender groups' for a breakdown column."""
    if by.startswith("group_"):
        return f"{by.removeprefix('group_')} groups"
    return {"country": "countries"}.get(by, f"{by}s")


def _p_text(p: float) -> str:
    """'p < 0.001', 'p = 0.012' or 'p = 0.46'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


@dataclass(frozen=True)
class Comparison:
    """Groups side by side: every class's share per group (long table) and one test per
    column."""

    by: str
    table: pd.DataFrame  # column, group, tag, n, k, share, ci_low, ci_high, too_few
    tests: dict[str, MixTest]


def compare_groups(frame: pd.DataFrame, by: str = "platform", *,
                   columns: Sequence[str] = ("domain", "theme"),
                   predicted_col: str = "stigma_predicted",
                   min_n: int = DEFAULT_MIN_N) -> Comparison:
    """``by`` groups side by side: predicted prevalence (when ``predicted_col`` is there),
    domain mix and theme mix, each with Wilson CIs, and a chi-square test of each."""
    parts, tests = [], {}
    if predicted_col in frame.columns:
        stigma = frame.assign(stigma=stigma_labels(frame[predicted_col]))
        share = tag_shares(stigma, "stigma", by, classes=["stigmatising"], min_n=min_n)
        parts.append(share.assign(column="stigma"))
        tests["stigma"] = mix_test(stigma, "stigma", by, min_n=min_n,
                                   what="share of posts flagged stigmatising")
    for column in columns:
        parts.append(tag_shares(frame, column, by, min_n=min_n).assign(column=column))
        tests[column] = mix_test(frame, column, by, min_n=min_n)
    table = pd.concat(parts, ignore_index=True)
    return Comparison(by, table[["column", *[c for c in table.columns if c != "column"]]],
                      tests)


PERIODS = {"month": "Month", "week": "Week"}


def breakdown_options(posts: pd.DataFrame) -> dict[str, str]:
    """What the posts can be broken down by — only columns the user supplied (country,
    platform, their own ``group_*`` columns) and, with dates, week or month: option -> label.
    No trait of a person is ever inferred from text or names."""
    options = {c: c.capitalize() for c in ("country", "platform") if c in posts}
    options |= {c: f"{c.removeprefix('group_')} (your column)" for c in posts
                if str(c).startswith("group_")}
    if "date" in posts and posts["date"].notna().any():
        options |= {period: f"{label} (over time)" for period, label in PERIODS.items()}
    return options


def with_breakdown(posts: pd.DataFrame, choice: str) -> tuple[pd.DataFrame, str]:
    """The posts with the column to break down by (a period made from the date for "week"
    or "month") and that column's name."""
    if choice in PERIODS:
        return posts.assign(period=period_labels(posts["date"], choice)), "period"
    return posts, choice


def period_labels(dates: pd.Series, freq: str = "month") -> pd.Series:
    """Each date's period as a sortable label: "2021-03" (month) or "2021-03-01" (the Monday
    of its week, for ``freq="week"``); missing dates stay missing."""
    values = pd.to_datetime(dates, errors="coerce", utc=True).dt.tz_localize(None)
    if freq == "month":
        labels = values.dt.strftime("%Y-%m")
    elif freq == "week":
        labels = (values - pd.to_timedelta(values.dt.weekday, unit="D")).dt.strftime("%Y-%m-%d")
    else:
        raise CorpusError(f"Periods are 'week' or 'month', not {freq!r}.")
    return labels.astype("string").where(values.notna())


# --- what to do -----------------------------------------------------------------------------


def action_gap(frame: pd.DataFrame, *, domain_col: str = "domain", theme_col: str = "theme",
               min_n: int = DEFAULT_MIN_N) -> pd.DataFrame:
    """Per domain (posts about mental health only): the share of actionable, awareness and
    help-seeking content, each with Wilson 95% CIs, and the gap ``awareness - actionable`` in
    points — where people talk about stigma but get no concrete steps, a campaign can fill in.

    Columns: ``domain, n, actionable, actionable_ci_low, actionable_ci_high, awareness, …,
    help_seeking, …, gap, too_few``.
    """
    about = frame[frame[domain_col].astype(str) != "none"]
    shares = tag_shares(about, theme_col, domain_col, min_n=min_n)
    out = []
    for domain in [d for d in DOMAINS if d in set(shares["group"])]:
        rows = shares[shares["group"] == domain].set_index("tag")
        record: dict[str, object] = {"domain": domain, "n": int(rows["n"].iloc[0])}
        for theme in ("actionable", "awareness", "help_seeking"):
            record[theme] = rows.loc[theme, "share"]
            record[f"{theme}_ci_low"] = rows.loc[theme, "ci_low"]
            record[f"{theme}_ci_high"] = rows.loc[theme, "ci_high"]
            record[f"{theme}_k"] = int(rows.loc[theme, "k"])
        record["gap"] = record["awareness"] - record["actionable"]
        record["too_few"] = bool(rows["too_few"].iloc[0])
        out.append(record)
    return pd.DataFrame(out)


def gap_words(gap: pd.DataFrame) -> str:
    """``gap_sentences`` as one paragraph."""
    return " ".join(gap_sentences(gap))


def gap_sentences(gap: pd.DataFrame) -> list[str]:
    """One plain sentence per domain (from ``action_gap``): does awareness outrun actionable
    advice, and do more posts ask for help than give concrete steps?"""
    rows = gap[~gap["too_few"]]
    if rows.empty:
        return ["Too few posts about mental health to compare actionable and awareness content."]
    lines = []
    for row in rows.itertuples():
        name = CLASS_NAMES[row.domain].split(" (")[0].lower()
        shares = f"awareness {row.awareness:.0%}, actionable advice {row.actionable:.0%}"
        if row.awareness_ci_low > row.actionable_ci_high:
            line = (f"In {name} posts (n = {row.n:,}), awareness clearly outweighs actionable "
                    f"advice ({shares}): people hear that stigma exists more than what to do "
                    "about it.")
        elif row.actionable_ci_low > row.awareness_ci_high:
            line = (f"In {name} posts (n = {row.n:,}), actionable advice clearly outweighs "
                    f"awareness ({shares}).")
        elif max(row.awareness, row.actionable) < 0.05:
            line = (f"In {name} posts (n = {row.n:,}), hardly any raise awareness or give "
                    f"actionable advice ({shares}).")
        else:
            line = (f"In {name} posts (n = {row.n:,}), awareness and actionable advice do not "
                    f"clearly differ ({shares}).")
        if row.help_seeking_ci_low > row.actionable_ci_high:
            line += (f" {row.help_seeking:.0%} ask for help — more than the posts that give "
                     "concrete steps: a gap a campaign could fill.")
        lines.append(line)
    return lines


def help_questions(texts: Sequence[object], *, examples: int = 2, seed: int = 0,
                   lexicon: Mapping[str, Mapping[str, float]] | None = None,
                   min_n: int = 1) -> pd.DataFrame:
    """The help-seeking posts' questions grouped by topic (``LEXICON["help_topic"]``): finding
    a service, medication, waiting times, telling others, helping someone, someone to talk to
    now, diagnosis, cost, other.

    Columns: ``topic, name, n, share, ci_low, ci_high`` (share of these posts, Wilson 95%
    CI), ``examples`` (up to ``examples`` seeded random posts of the topic, personal details
    masked with ``privacy.mask_pii``). Topics sort by n, largest first; empty topics dropped.
    """
    values = pd.Series(list(texts), dtype=object).dropna().astype(str)
    values = values[values.str.strip() != ""].reset_index(drop=True)
    topics = tag(values, "help_topic", lexicon)
    frame = pd.DataFrame({"text": values, "topic": topics})
    shares = tag_shares(frame, "topic", classes=list(CLASSES["help_topic"]), min_n=min_n)
    shares = shares[shares["k"] > 0].sort_values(["k", "tag"], ascending=[False, True])
    rng = np.random.default_rng(seed)
    picked = []
    for topic in shares["tag"]:
        posts = frame.loc[frame["topic"] == topic, "text"].drop_duplicates().to_numpy()
        chosen = rng.choice(posts, size=min(examples, len(posts)), replace=False)
        picked.append([mask_pii(p) for p in chosen])
    return pd.DataFrame({
        "topic": shares["tag"].to_numpy(), "name": shares["tag"].map(CLASS_NAMES).to_numpy(),
        "n": shares["k"].to_numpy(), "share": shares["share"].to_numpy(),
        "ci_low": shares["ci_low"].to_numpy(), "ci_high": shares["ci_high"].to_numpy(),
        "examples": picked})
