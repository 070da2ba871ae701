"""The classes a post can be tagged with, and the seed word lists that tag them.

Kinds: ``domain`` (where the talk sits), ``theme`` (what the post does) and ``help_topic``
(what a help-seeking post asks about). ``LEXICON`` is one plain dict, kind -> class ->
{word or phrase: weight}, that a user can read and edit; it lives apart from the matcher
(``tagger``) so the words can be read and reviewed without the code that matches them. The
tagging rule's constants (``MIN_SCORE``, ``PRIORITY``, negation) sit beside the words they
govern.
"""

from __future__ import annotations

from collections.abc import Iterable

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
