"""Which column of a raw table is which: the ``ColumnMapping`` and the guess from names.

``guess_mapping`` recognises the common names of each canonical field (case-insensitively,
best first); the user overrides any guess, and ``ColumnMapping.guessed`` remembers which
choices were the program's, so the load report can say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

# Column names (compared case-insensitively) that guess_mapping recognises, best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "text": ("text", "tweet", "full_text", "body", "content", "post", "message", "comment"),
    "label": ("label", "stigma", "stigmatising", "stigmatizing", "is_stigma", "class", "y"),
    "location": ("user_location", "location", "user.location", "author_location"),
    "country": ("country", "country_code"),
    "platform": ("platform", "source_platform", "site"),
    "date": ("created_at", "date", "timestamp", "created_utc"),
    "retweet": ("is_retweet", "retweeted", "rt", "retweet"),
    "id": ("id", "tweet_id", "post_id"),
    "lang": ("lang", "language", "lang_code", "language_code"),
}
_RATER_NAME = re.compile(r"^(rater|coder|annotator)_.+", re.IGNORECASE)


@dataclass
class ColumnMapping:
    """Which column of the raw file holds each canonical field (None: not in the file).

    ``guessed`` lists the fields ``guess_mapping`` filled in, so the report can say which
    choices were the program's rather than the user's; it is not part of ``as_dict``.
    """

    text: str | None = None
    label: str | None = None
    country: str | None = None
    location: str | None = None
    platform: str | None = None
    date: str | None = None
    retweet: str | None = None
    id: str | None = None
    lang: str | None = None
    raters: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    guessed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The column choices as a plain dict (fit for JSON and ``ColumnMapping(**d)``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "guessed"}


MAPPING_FIELDS = tuple(f.name for f in fields(ColumnMapping) if f.name != "guessed")



def guess_mapping(columns: Iterable[object]) -> ColumnMapping:
    """Which column is which, from common names (case-insensitive); ``.guessed`` lists
    the fields found. Raters: every column named rater_*, coder_* or annotator_*."""
    names = [str(c) for c in columns]
    by_key: dict[str, str] = {}
    for column in names:
        by_key.setdefault(column.strip().lower(), column)
    used: set[str] = set()
    chosen: dict[str, Any] = {}
    for target, keys in CANDIDATES.items():
        match = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        if match is not None:
            chosen[target] = match
            used.add(match)
    raters = [c for c in names if _RATER_NAME.match(c.strip()) and c not in used]
    if raters:
        chosen["raters"] = raters
    return ColumnMapping(**chosen, guessed=list(chosen))


