"""Generate the SYNTHETIC sample data that Stigma Lens opens with on a fresh machine.

Why synthetic: real social-media posts cannot be redistributed, yet the dashboard needs a coded
training set (two blind raters, a third resolving disagreements), validation batches and a
larger messy corpus to show every page. Posts are built compositionally from many templates per
stigma category, decorated in tweet style, with ambiguous posts, shared vocabulary, label noise
and honest rater disagreement, so the data are learnable but not trivially separable.

Deterministic: one ``random.Random`` stream per file, seeded from ``--seed`` (default 2022);
the same seed always gives byte-identical files.

Usage: ``python scripts/make_sample_data.py [--out sample_data] [--seed N]``
"""

from __future__ import annotations

import argparse
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

DEFAULT_SEED = 2022
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "sample_data"

N_TRAIN = 800
N_VALIDATION = 150
N_CORPUS_ORIGINALS = 5100
N_RETWEETS = 650
N_DUPLICATE_ROWS = 12
N_EMPTY_TEXTS = 9
NON_ENGLISH_SHARE = 0.03

TRAIN_STIGMA_SHARE = 0.40  # the coded set was sampled enriched for stigma, as in the paper
AMBIGUOUS_SHARE = 0.15  # posts whose reading depends on the coder
NOISE_SHARE = 0.08  # posts coded against the class of the template they came from
RATER_ERROR = {"clear": 0.04, "noise": 0.04, "ambiguous": 0.25}
RESOLVER_ERROR = 0.12
VALIDATOR_ERROR = {"clear": 0.05, "noise": 0.05, "ambiguous": 0.25}

PLATFORMS = (("twitter", 0.62), ("reddit", 0.23), ("tiktok", 0.15))
DOMAINS = ("self", "community", "professional", "none")
THEMES = ("awareness", "actionable", "help-seeking", "personal story", "none")


@dataclass(frozen=True)
class Template:
    """One post pattern: ``lean`` is the chance a coder calls it stigmatising (1, 0 or between)."""

    text: str
    domain: str
    theme: str
    lean: float


def _group(lean: float, domain: str, theme: str, *texts: str) -> list[Template]:
    return [Template(t, domain, theme, lean) for t in texts]


STIGMATISING: list[Template] = [
    # dangerousness (community)
    *_group(1.0, "community", "none",
            "{people_slur} are dangerous and everyone knows it",
            "another {event} and surprise surprise the guy had {cond}. when will people admit "
            "{slur} are a danger to everyone",
            "wouldn't feel safe living next to someone with {cond}, they can snap at any moment",
            "if your {rel} has {cond} hide the knives, they're unpredictable",
            "{slur} hearing voices and wandering round {place}, someone is going to get hurt",
            "read about the {event}. {cond} again. these people are a ticking time bomb"),
    *_group(1.0, "community", "actionable",
            "{slur} should be locked up, simple as",
            "lock them ALL up, {people} have no business walking around {place}",
            "keep {slur} away from our schools. sign if you agree {url}",
            "why are {people} allowed to have kids? should be banned tbh",
            "police should section every {slur_one} they see at {place}"),
    # blame / responsibility (community)
    *_group(1.0, "community", "none",
            "{cond} is just an excuse for being lazy tbh",
            "{cond} isn't real, go outside and get a job",
            "people choose to be {slur_adj}, stop blaming your brain",
            "my {rel} 'has {cond}' aka doesn't want to work",
            "they bring it on themselves with the drugs, {cond} is self inflicted",
            "everyone claims {cond} now to get out of work. pathetic",
            "just snap out of it. {cond} is a choice"),
    # insult / ridicule (community)
    *_group(1.0, "community", "none",
            "my ex is a total {slur_one} lmao",
            "that referee is absolutely {slur_adj}, belongs in a psych ward",
            "listening to the voices again are we? {slur_one}",
            "imagine being so {slur_adj} you think the TV is talking to you",
            "the {slur} on this app never stop crying about their 'mental health'",
            "our manager is a proper {slur_one}, someone section him already",
            "she went full {cond} on me in {place} {time} lol what a {slur_one}",
            "he's not 'ill' he's just {slur_adj}, a {slur_one}"),
    # social distance (community)
    *_group(1.0, "community", "personal story",
            "would never date someone with {cond}, too much baggage",
            "i'd move house if a {slur_one} moved in next door",
            "found out my new flatmate has {cond}. already looking for a new place",
            "wouldn't hire anyone with {cond}, sorry not sorry",
            "told my kids to stay away from the {slur_one} at {place}"),
    # pity (community)
    *_group(1.0, "community", "none",
            "poor things, {people} can never live a normal life",
            "so sad, once you get {cond} your life is basically over",
            "feel sorry for {people}, they'll never work or have a family"),
    # treatment stereotypes (professional)
    *_group(1.0, "professional", "none",
            "as a nurse i can tell you psych patients are all attention seekers",
            "{treat} just turns you into a zombie, {people} never get better anyway",
            "psych wards are basically zoos for the {slur}",
            "no point treating {cond}, they never recover",
            "doctors drug up the {slur} and send them home to be a menace",
            "my {pro} says {people} are manipulative and you can't trust a word they say",
            "{treat} is for the weak. toughen up"),
    *_group(1.0, "professional", "awareness",
            "wake up: {people} are violent and {pro}s are too scared to say it",
            "the truth nobody in the NHS says: {cond} can't be cured and {treat} is a waste"),
    # self stigma
    *_group(1.0, "self", "personal story",
            "i'm so ashamed of my {cond}. i'm broken and nobody should have to deal with me",
            "who would ever hire someone like me with {cond}. i'm a burden",
            "i'm just a {slur_one} now, might as well accept it",
            "{num_years} years with {cond} and i'm still a failure. i'm weak, that's all it is",
            "i don't deserve help, people like me with {cond} are just a drain on everyone"),
]

NON_STIGMATISING: list[Template] = [
    # awareness (community)
    *_group(0.0, "community", "awareness",
            "{stat} people will experience {cond} in their lifetime. more common than you think",
            "people with {cond} are far more likely to be victims of violence than dangerous {url}",
            "reminder: {cond} is a medical condition, not a character flaw",
            "{media} on {cond} was actually really well done, more like this please",
            "words matter. calling someone a '{slur_one}' hurts {people}",
            "stop using '{slur_adj}' as an insult. {people} hear it every day",
            "'{people} are dangerous' is a myth. the data say otherwise {url}",
            "the media loves to link every {event} to {cond}. please stop",
            "{people} are not '{slur}'. they are people",
            "it's time to talk about {cond}. no shame, no whispering",
            "{cond} is not a choice and it is not laziness"),
    # actionable
    *_group(0.0, "community", "actionable",
            "sign the petition for better {cond} services in our area {url}",
            "write to your MP: {cond} care waits are {weeks} weeks. that's not ok",
            "volunteer for our {cond} peer support group, link below {url}",
            "call out the word '{slur_one}' when you hear it. it's that easy",
            "if your workplace treats {people} badly, report it. you have rights",
            "donate if you can, every bit helps people with {cond} {url}"),
    *_group(0.0, "professional", "actionable",
            "fund early intervention for {cond}. it works {url}",
            "{pro}s: ask about {cond} with the same care you ask about diabetes"),
    # personal story (self)
    *_group(0.0, "self", "personal story",
            "{num_years} years since my {cond} diagnosis. still here, still working, still me",
            "had a rough week with my {cond} but i got through it. small wins",
            "i heard voices for {num_years} years before anyone believed me. it does get better",
            "living with {cond} is hard some days but i'm proud of how far i've come",
            "i used to call myself {slur_adj}. now i just say i have {cond} and i'm ok",
            "my {cond} doesn't make me dangerous. it makes me tired"),
    *_group(0.0, "community", "personal story",
            "my {rel} lives with {cond} and is the kindest person i know",
            "so proud of my {rel}, back at work after a long fight with {cond}",
            "sat with my {rel} in {place} {time}. {cond} is cruel but she's stronger"),
    *_group(0.0, "professional", "personal story",
            "today my {pro} actually listened to me about my {cond}. felt human for once",
            "{pro} was so kind about my {cond} today, thank you NHS",
            "{treat} has honestly given me my life back. {num_years} years stable",
            "as a psychiatric nurse i see recovery from {cond} every single week"),
    # help-seeking
    *_group(0.0, "self", "help-seeking",
            "does anyone know a good {pro} near {city}? struggling with my {cond} again",
            "finally booked an appointment about my {cond}. scared but doing it",
            "how do you tell your {rel} you've been diagnosed with {cond}? any advice",
            "i think i might have {cond}. where do i even start",
            "can't sleep, head is loud {time}. anyone up to talk?"),
    *_group(0.0, "professional", "help-seeking",
            "started {treat} {time}. anyone else been on it? side effects?",
            "is it normal to wait {weeks} weeks for a {pro}? feeling lost with my {cond}"),
    *_group(0.0, "community", "help-seeking",
            "my {rel} has {cond} and i don't know how to help. advice please",
            "if you're struggling please talk to someone. DMs open"),
    # news / research (professional / community)
    *_group(0.0, "professional", "awareness",
            "new research: {treat} reduces relapse in {cond} by {pct}% {url}",
            "study finds {stat} people with {cond} face discrimination at work {url}",
            "{media}: funding for {cond} services cut again {url}",
            "trial shows peer support helps people with {cond} stay well {url}"),
    # neutral uses of 'crazy' words
    *_group(0.0, "none", "none",
            "this weather is {slur_adj} today",
            "traffic on the way to {place} is absolutely insane {time}",
            "that match was {slur_adj}, what a finish",
            "watching Psycho (1960) for the first time, Hitchcock was a genius",
            "my cat goes {slur_adj} at 3am every night",
            "this deal is crazy, {pct}% off everything",
            "{num_years} hours of revision and i'm going crazy, send snacks"),
]

AMBIGUOUS: list[Template] = [
    Template("oh great another {cond} awareness day, that'll fix everything", "community",
             "awareness", 0.35),
    Template("not gonna lie {people} kinda scare me. is that bad?", "community", "none", 0.6),
    Template("my {rel} is so {slur_adj} lol love her though", "community", "none", 0.5),
    Template("everyone's 'depressed' these days huh", "community", "none", 0.6),
    Template("sure, {treat} will fix it. totally.", "professional", "none", 0.45),
    Template("i'm so OCD about my desk lol", "self", "none", 0.45),
    Template("is it just me or is everyone on here a bit {slur_adj}", "community", "none", 0.5),
    Template("they let {people} be teachers now. brave or reckless?", "community", "none", 0.6),
    Template("love how {media} only talks about {cond} after a {event}", "community",
             "awareness", 0.3),
    Template("being {slur_adj} is my whole personality at this point", "self", "none", 0.45),
    Template("{cond} twitter is wild today", "community", "none", 0.45),
    Template("honestly who isn't a little {slur_adj}", "community", "none", 0.4),
    Template("they said he had {cond}. makes you think.", "community", "none", 0.6),
    Template("the queue at {place} is mental, everyone's lost it", "none", "none", 0.35),
    Template("my {pro} thinks i'm {slur_adj} and tbh fair", "professional", "personal story",
             0.5),
    Template("{people} in films are always the killer. accurate?", "community", "none", 0.55),
    Template("i'd be nervous around someone with {cond} if i'm honest", "community",
             "personal story", 0.6),
]

NON_ENGLISH: dict[str, list[str]] = {
    "es": [
        "la gente con {es_cond} no es peligrosa, deja de repetir ese mito en las noticias",
        "mi hermano vive con {es_cond} desde hace años y es la persona más buena que conozco",
        "los locos como ese deberían estar encerrados en un hospital y no en la calle",
        "hoy empecé terapia por mi depresión y la verdad es que me siento un poco mejor",
        "otra vez llaman psicópata a cualquiera en la tele, qué vergüenza de periodismo",
        "nunca contrataría a alguien con {es_cond}, son totalmente impredecibles",
    ],
    "fr": [
        "les personnes qui vivent avec {fr_cond} ne sont pas dangereuses, arrêtez ce cliché",
        "ma sœur vit avec {fr_cond} depuis dix ans, elle travaille et elle a une famille",
        "encore un fou dans le métro ce matin, on devrait tous les enfermer",
        "j'ai enfin pris rendez-vous chez un psychiatre pour ma dépression, c'est dur mais je "
        "le fais",
        "arrêtez d'utiliser le mot schizophrène comme une insulte s'il vous plaît",
    ],
    "de": [
        "Menschen mit {de_cond} sind nicht gefährlich, hört endlich auf mit diesem Vorurteil",
        "mein Bruder lebt seit Jahren mit {de_cond} und ist der liebste Mensch, den ich kenne",
        "solche Verrückten gehören in die Klapse und nicht auf die Straße",
        "heute hatte ich endlich meinen ersten Termin beim Psychiater wegen meiner Depression",
        "warum wird Schizophrenie in den Nachrichten immer mit Gewalt verbunden? Das ist falsch",
    ],
}

SLOTS: dict[str, Sequence[str]] = {
    "cond": ("schizophrenia", "schizophrenia", "psychosis", "depression", "bipolar",
             "mental illness", "severe mental illness", "mental health problems", "psychosis"),
    "people": ("people with {cond}", "someone with {cond}", "anyone with {cond}",
               "patients with {cond}", "folks with {cond}", "people living with {cond}"),
    "people_slur": ("{slur}", "people with {cond}", "schizophrenics", "the mentally ill"),
    "slur": ("schizos", "psychos", "nutters", "lunatics", "crazies", "loonies", "headcases",
             "mental cases", "maniacs"),
    "slur_one": ("schizo", "psycho", "nutter", "lunatic", "loony", "headcase", "maniac",
                 "nutcase"),
    "slur_adj": ("crazy", "psycho", "mental", "mad", "insane", "unhinged", "nuts", "deranged"),
    "rel": ("brother", "mum", "best friend", "flatmate", "partner", "dad", "cousin", "sister",
            "neighbour", "son", "coworker", "aunt"),
    "pro": ("GP", "psychiatrist", "nurse", "therapist", "doctor", "care coordinator",
            "psychologist"),
    "treat": ("meds", "antipsychotics", "therapy", "CBT", "ECT", "clozapine", "lithium",
              "antidepressants", "the psych ward"),
    "place": ("the bus", "my street", "the office", "school", "the supermarket", "uni",
              "the park", "the station", "Tesco", "the gym", "church"),
    "time": ("today", "last night", "this morning", "all week", "at 3am", "again",
             "for the 3rd time this month", "yesterday", "tonight"),
    "event": ("shooting", "stabbing", "attack", "murder trial", "crash", "Netflix documentary",
              "court case"),
    "media": ("the BBC", "the news", "that documentary", "a new study", "the Guardian piece",
              "this podcast", "the new Netflix series", "Channel 4", "CNN"),
    "stat": ("1 in 100", "1 in 4", "1 in 6", "2 in 3", "over 20 million", "1 in 50", "3%"),
    "num_years": ("2", "3", "5", "7", "10", "12", "15", "20"),
    "weeks": ("6", "12", "18", "26", "40", "52"),
    "pct": ("20", "30", "35", "40", "50", "60"),
    "city": ("Leeds", "Austin", "Toronto", "Pune", "Dublin", "Bristol", "Denver", "Perth"),
    "url": ("{link}",),
    "es_cond": ("esquizofrenia", "depresión", "psicosis", "trastorno bipolar"),
    "fr_cond": ("la schizophrénie", "la dépression", "une psychose", "un trouble bipolaire"),
    "de_cond": ("Schizophrenie", "Depressionen", "einer Psychose", "einer bipolaren Störung"),
}

OPENERS = ("", "", "", "", "", "lol ", "ngl ", "honestly ", "just saw this: ", "so ",
           "reminder: ", "thread: ", "not gonna lie ", "ok but ", "unpopular opinion: ")
CLOSERS = ("", "", "", "", "", " thoughts?", " just saying.", " idk.", " rant over.",
           " fight me.", " that's all.", " anyway.", " seriously.", " 100%.", " wow.")
HASHTAGS = ("#mentalhealth", "#schizophrenia", "#psychosis", "#depression", "#bipolar",
            "#MentalHealthAwareness", "#EndTheStigma", "#TimeToTalk", "#BellLetsTalk",
            "#news", "#wtf", "#smh", "#truth", "#fyp", "#SMI", "#recovery")
EMOJI = ("😂", "🙄", "😡", "💔", "🙏", "💚", "😬", "🤡", "😭", "❤️", "👀", "🙃", "💯", "🤔")
CAPS_WORDS = ("NEVER", "NOT", "ALWAYS", "EVERY", "SERIOUSLY", "REAL", "STOP", "WHY")

# (country ISO alpha-2 or None, expected share of corpus posts, true stigma rate, locations)
COUNTRIES: tuple[tuple[str | None, float, float, tuple[str, ...]], ...] = (
    ("US", 0.300, 0.40, ("NYC", "New York, NY", "Austin, Texas", "SF", "San Francisco, CA",
                         "Los Angeles", "Chicago, IL", "🇺🇸", "USA", "United States",
                         "Boston, MA", "Seattle, WA", "Atlanta, GA", "Brooklyn, NY",
                         "Denver, CO", "Florida, USA")),
    ("GB", 0.215, 0.10, ("Liverpool, England", "London", "London, UK", "Manchester",
                         "United Kingdom", "Cymru", "Glasgow, Scotland", "Leeds, UK",
                         "England", "UK", "Bristol, England", "Belfast, Northern Ireland",
                         "Cardiff, Wales", "🇬🇧")),
    (None, 0.150, 0.28, ("Worldwide", "the internet", "he/him", "", "", "", "in my head",
                         "she/her", "they/them", "Earth", "somewhere over the rainbow",
                         "your mum's house", "Hogwarts", "📍 vibes", "everywhere & nowhere")),
    ("CA", 0.060, 0.05, ("Toronto, ON", "Vancouver, BC", "Canada", "Ottawa, Ontario",
                         "Calgary, Alberta", "🇨🇦")),
    ("IN", 0.058, 0.25, ("Pune", "Mumbai, India", "New Delhi, India", "Bengaluru, India",
                         "India", "Chennai, India")),
    ("AU", 0.047, 0.15, ("Sydney, Australia", "Melbourne, Victoria", "Brisbane, Australia",
                         "Australia", "Perth, Western Australia")),
    ("IE", 0.027, 0.12, ("Dublin", "Ireland", "Cork, Ireland", "Galway")),
    ("NG", 0.022, 0.30, ("Lagos, Nigeria", "Abuja, Nigeria", "Nigeria")),
    ("PH", 0.016, 0.28, ("Manila, Philippines", "Philippines", "Quezon City")),
    ("ZA", 0.014, 0.22, ("Cape Town, South Africa", "Johannesburg, South Africa")),
    ("NZ", 0.012, 0.12, ("Auckland, New Zealand", "Wellington, NZ")),
    ("KE", 0.009, 0.30, ("Nairobi, Kenya", "Kenya")),
    ("PK", 0.007, 0.33, ("Karachi, Pakistan", "Lahore, Pakistan")),
    ("SG", 0.007, 0.20, ("Singapore",)),
    ("DE", 0.006, 0.18, ("Berlin, Germany", "Deutschland")),
    ("NL", 0.004, 0.10, ("Amsterdam, Netherlands",)),
    ("BR", 0.004, 0.30, ("Porto Alegre, RS, Brasil", "São Paulo, Brasil")),
    ("GH", 0.003, 0.30, ("Accra, Ghana",)),
    ("AT", 0.003, 0.15, ("Österreich", "Wien, Österreich")),
    ("JM", 0.002, 0.35, ("Kingston, Jamaica",)),
    ("SE", 0.002, 0.08, ("Stockholm, Sweden",)),
)
NON_ENGLISH_LOCATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (("Madrid", "ES"), ("Barcelona, España", "ES"), ("CDMX", "MX"),
           ("Ciudad de México", "MX"), ("Miami, FL", "US")),
    "fr": (("Paris, France", "FR"), ("Montréal, QC", "CA"), ("Lyon", "FR")),
    "de": (("Berlin, Germany", "DE"), ("München", "DE"), ("Österreich", "AT"),
           ("Wien, Österreich", "AT")),
}
FOREIGN_STIGMA_MARKERS = ("locos", "nunca contrataría", "un fou", "Verrückten")
LOCATION_COUNTRY: dict[str, str | None] = {
    loc: iso for iso, _, _, locs in COUNTRIES for loc in locs
} | {loc: iso for pairs in NON_ENGLISH_LOCATIONS.values() for loc, iso in pairs}

SLOT_PATTERN = re.compile(r"\{(\w+)\}")
TRAIN_PERIOD = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 12, 31, tzinfo=UTC))
CORPUS_PERIOD = (datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 6, 30, tzinfo=UTC))


@dataclass(frozen=True)
class Post:
    """A generated post with the generator's ground truth."""

    text: str
    label: int
    kind: str
    domain: str
    theme: str
    platform: str


@dataclass(frozen=True)
class SampleData:
    """All generated frames; ``corpus_truth`` (id, country, true_label) is never written."""

    train: pd.DataFrame
    validation_1: pd.DataFrame
    validation_2: pd.DataFrame
    corpus: pd.DataFrame
    corpus_truth: pd.DataFrame


def _fill(rng: random.Random, pattern: str) -> str:
    """Replace every ``{slot}`` by a random filler; fillers may hold slots themselves."""
    for _ in range(4):
        pattern = SLOT_PATTERN.sub(lambda m: _filler(rng, m.group(1)), pattern)
    return pattern


def _filler(rng: random.Random, name: str) -> str:
    if name == "link":
        return "https://t.co/" + "".join(rng.choices(string.ascii_letters + string.digits, k=10))
    return rng.choice(SLOTS[name])


def _handle(rng: random.Random) -> str:
    first = rng.choice(("sam", "jo", "alex", "mel", "kiri", "dev", "tom", "ria", "lee", "news",
                        "mind", "daily", "the_real", "its", "not", "just"))
    second = rng.choice(("", "_", "x", "_k", "y", "desk", "talks", "bee", "fan", "mh"))
    return f"@{first}{second}{rng.randrange(1, 999)}"


def _choose_template(rng: random.Random, label: int) -> tuple[Template, str]:
    """Pick the template behind a post whose coders' consensus will be ``label``."""
    u = rng.random()
    if u < AMBIGUOUS_SHARE:
        weights = [t.lean if label else 1.0 - t.lean for t in AMBIGUOUS]
        return rng.choices(AMBIGUOUS, weights=weights)[0], "ambiguous"
    if u < AMBIGUOUS_SHARE + NOISE_SHARE:
        return rng.choice(NON_STIGMATISING if label else STIGMATISING), "noise"
    return rng.choice(STIGMATISING if label else NON_STIGMATISING), "clear"


def _decorate(rng: random.Random, text: str, lean: float, platform: str) -> str:
    """Dress a sentence as a post: opener, closer, caps, handles, hashtags, emoji, links."""
    text = rng.choice(OPENERS) + text + rng.choice(CLOSERS)
    if rng.random() < 0.1 + 0.15 * lean:
        text = _shout(rng, text)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    if platform == "twitter" and rng.random() < 0.3:
        text = f"{_handle(rng)} {text}"
    if rng.random() < 0.35:
        text += " " + " ".join(rng.sample(HASHTAGS, k=rng.randint(1, 3)))
    if rng.random() < 0.3:
        text += " " + "".join(rng.choices(EMOJI, k=rng.randint(1, 3)))
    if rng.random() < 0.08 and "https://" not in text:
        text += " " + _filler(rng, "link")
    if platform == "reddit" and rng.random() < 0.2:
        text += " Edit: thanks for all the replies."
    return text


def _shout(rng: random.Random, text: str) -> str:
    """Upper-case one longer word, or insert an emphatic capital word."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if long_words and rng.random() < 0.6:
        i = rng.choice(long_words)
        words[i] = words[i].upper()
        return " ".join(words)
    return f"{text} {rng.choice(CAPS_WORDS)}."


def make_post(rng: random.Random, label: int, platform: str) -> Post:
    """One English post whose coders' consensus is ``label``, built from a random template."""
    template, kind = _choose_template(rng, label)
    text = _decorate(rng, _fill(rng, template.text), template.lean, platform)
    return Post(text, label, kind, template.domain, template.theme, platform)


def _code(rng: random.Random, label: int, error: float) -> int:
    return 1 - label if rng.random() < error else label


def _timestamp(rng: random.Random, period: tuple[datetime, datetime]) -> datetime:
    span = int((period[1] - period[0]).total_seconds())
    return period[0] + timedelta(seconds=rng.randrange(span))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _platform(rng: random.Random) -> str:
    return rng.choices([p for p, _ in PLATFORMS], weights=[w for _, w in PLATFORMS])[0]


def _country(rng: random.Random) -> tuple[str | None, float, str]:
    """Draw (iso2, true stigma rate, a location string as a profile would hold it)."""
    iso, _, rate, locations = rng.choices(COUNTRIES, weights=[c[1] for c in COUNTRIES])[0]
    return iso, rate, rng.choice(locations)


def _unique_posts(rng: random.Random, n: int, share: float, seen: set[str]) -> list[Post]:
    """``n`` posts with labels drawn at ``share`` whose texts are not in ``seen`` (updated)."""
    posts: list[Post] = []
    while len(posts) < n:
        post = make_post(rng, int(rng.random() < share), _platform(rng))
        if post.text not in seen:
            seen.add(post.text)
            posts.append(post)
    return posts


def build_train(rng: random.Random, seen: set[str]) -> pd.DataFrame:
    """The coded training set: two blind raters, a third resolving only their disagreements."""
    rows = []
    for i, post in enumerate(_unique_posts(rng, N_TRAIN, TRAIN_STIGMA_SHARE, seen), start=1):
        retweet = post.platform == "twitter" and rng.random() < 0.06
        r1, r2 = (_code(rng, post.label, RATER_ERROR[post.kind]) for _ in range(2))
        r3 = None if r1 == r2 else _code(rng, post.label, RESOLVER_ERROR)
        rows.append({
            "id": f"tr-{i:04d}",
            "text": f"RT {_handle(rng)}: {post.text}" if retweet else post.text,
            "platform": post.platform,
            "user_location": _country(rng)[2],
            "created_at": _iso(_timestamp(rng, TRAIN_PERIOD)),
            "is_retweet": retweet,
            "lang": "en",
            "rater_1": r1, "rater_2": r2, "rater_3": r3,
            "label": r1 if r3 is None else r3,
            "domain": post.domain, "theme": post.theme,
        })
    frame = pd.DataFrame(rows)
    frame["rater_3"] = frame["rater_3"].astype("Int64")
    return frame


def build_validation(rng: random.Random, batch: int, seen: set[str]) -> pd.DataFrame:
    """A blind validation batch: three service-user validators, no final label."""
    rows = []
    for i, post in enumerate(_unique_posts(rng, N_VALIDATION, TRAIN_STIGMA_SHARE, seen), 1):
        codes = [_code(rng, post.label, VALIDATOR_ERROR[post.kind]) for _ in range(3)]
        rows.append({"id": f"v{batch}-{i:03d}", "text": post.text,
                     "rater_a": codes[0], "rater_b": codes[1], "rater_c": codes[2]})
    return pd.DataFrame(rows)


def _english_rows(rng: random.Random) -> list[dict]:
    """English originals, each labelled at its country's true stigma rate."""
    rows = []
    for _ in range(N_CORPUS_ORIGINALS):
        iso, rate, location = _country(rng)
        platform = _platform(rng)
        post = make_post(rng, int(rng.random() < rate), platform)
        rows.append(_corpus_row(rng, post.text, platform, location, iso, post.label, "en"))
    return rows


def _foreign_rows(rng: random.Random) -> list[dict]:
    """Spanish, French and German posts from places where those languages are spoken."""
    rows = []
    for _ in range(round(NON_ENGLISH_SHARE * (N_CORPUS_ORIGINALS + N_RETWEETS))):
        lang = rng.choice(sorted(NON_ENGLISH))
        location, iso = rng.choice(NON_ENGLISH_LOCATIONS[lang])
        text = _fill(rng, rng.choice(NON_ENGLISH[lang]))
        if rng.random() < 0.3:
            text += " " + rng.choice(EMOJI)
        stigmatising = int(any(w in text for w in FOREIGN_STIGMA_MARKERS))
        platform = rng.choice(("twitter", "tiktok"))
        rows.append(_corpus_row(rng, text, platform, location, iso, stigmatising, lang))
    return rows


def _corpus_row(rng: random.Random, text: str, platform: str, location: str,
                iso: str | None, label: int, language: str) -> dict:
    """One original post; only tweets say their language (``lang``, as Twitter's API does)."""
    return {"text": text, "platform": platform, "user_location": location,
            "created_at": _timestamp(rng, CORPUS_PERIOD), "is_retweet": False,
            "lang": language if platform == "twitter" else "",
            "_country": iso, "_label": label}


def _retweet_rows(rng: random.Random, originals: list[dict]) -> list[dict]:
    """Retweets of earlier English tweets, picked so each retweeter's country keeps its rate."""
    pool = {y: [r for r in originals if r["_label"] == y and r["platform"] == "twitter"]
            for y in (0, 1)}
    rows = []
    for _ in range(N_RETWEETS):
        iso, rate, location = _country(rng)
        source = rng.choice(pool[int(rng.random() < rate)])
        when = source["created_at"] + timedelta(minutes=rng.randint(1, 60 * 24 * 5))
        rows.append({"text": f"RT {_handle(rng)}: {source['text']}", "platform": "twitter",
                     "user_location": location, "created_at": when, "is_retweet": True,
                     "lang": "en", "_country": iso, "_label": source["_label"]})
    return rows


def build_corpus(rng: random.Random) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The unlabelled corpus (with its messy parts) and its hidden ground truth."""
    english = _english_rows(rng)
    rows = english + _retweet_rows(rng, english) + _foreign_rows(rng)
    for row in rng.sample(rows, N_EMPTY_TEXTS):
        row["text"] = rng.choice(("", "", " ", "   "))
    rows.sort(key=lambda r: r["created_at"])
    for i, row in enumerate(rows, start=1):
        row["id"] = f"c-{i:06d}"
        row["created_at"] = _iso(row["created_at"])
    for row in rng.sample(rows, N_DUPLICATE_ROWS):
        rows.insert(rows.index(row) + 1, dict(row))
    frame = pd.DataFrame(rows)
    columns = ["id", "text", "platform", "user_location", "created_at", "is_retweet", "lang"]
    truth = frame[["id", "_country", "_label"]].drop_duplicates("id")
    truth = truth.rename(columns={"_country": "country", "_label": "true_label"})
    return frame[columns], truth.reset_index(drop=True)


def generate(seed: int = DEFAULT_SEED) -> SampleData:
    """Build every sample frame from ``seed``; each file draws from its own random stream."""
    seen: set[str] = set()
    train = build_train(random.Random(seed * 10 + 1), seen)
    validation_1 = build_validation(random.Random(seed * 10 + 2), 1, seen)
    validation_2 = build_validation(random.Random(seed * 10 + 3), 2, seen)
    corpus, truth = build_corpus(random.Random(seed * 10 + 4))
    return SampleData(train, validation_1, validation_2, corpus, truth)


def write(data: SampleData, out: Path) -> list[Path]:
    """Write the four CSV files (UTF-8, ``\\n`` line ends) into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"train.csv": data.train, "validation_batch_1.csv": data.validation_1,
             "validation_batch_2.csv": data.validation_2, "corpus.csv": data.corpus}
    paths = []
    for name, frame in files.items():
        path = out / name
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: generate with ``--seed`` and write into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in write(generate(args.seed), args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
