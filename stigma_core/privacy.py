"""Personal details in posts and profiles: masking them, and which columns to hide on a projector.

Privacy by default: every table the dashboard shows or exports, and every file the command line
writes, passes through :func:`mask_frame` unless the user turns masking off, so a post can be
read without pointing at a person. Masking covers every text column, not only the post: a
profile location, a bio or a note can hold a handle, an e-mail, a link or a phone number just
as well. Presenter mode goes further and drops the columns that are free text about a person
(:func:`personal_text_columns`). Kept apart from the text preprocessing so that it needs
nothing heavier than ``re`` and pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

# An e-mail: something@domain.tld (the domain needs a dot, so "me@home" is left alone).
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A link starting http://, https:// or www.; a closing bracket or sentence punctuation right
# after it is not part of it.
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
# An @handle that starts a word (so the "@" inside "me@home" is not one).
HANDLE_RE = re.compile(r"(?<![\w@])@\w+")
# A phone number, written the ways people write them, and nothing that is merely a number:
# years (2024), counts (1,234), shares (12.5%), dates (2024-01-05, 05/01/2024), times and
# ids (c-000001, a bare run of digits) never match. Four shapes, each 9 to 15 digits in all
# (checked in _phone): international "+44 20 7946 0000" / "+1 (555) 123-4567"; an area code
# in brackets "(555) 123-4567"; a national trunk 0 "020 7946 0000" / "07946 000000"; and the
# North-American "555-123-4567" (area code 2-9, the same separator twice). A number written
# right after a phone number with only a space between may be taken as part of it when the
# two together still have at most 15 digits ("+1 555 123 4567 2024").
PHONE_RE = re.compile(
    r"""
    (?<![\w+.,/-])                       # not glued to a word, a number or an id
    (?:
        \+\d{1,3}(?:[ .-]?(?:\(\d{1,5}\)|\d{1,5})){2,6}     # +CC then 2-6 groups
      | \(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}               # (area) 123-4567
      | 0[1-9]\d{1,3}[ .-]?\d{3,4}[ .-]?\d{3,4}             # 020 7946 0000
      | [2-9]\d{2}([ .-])\d{3}\1\d{4}                       # 555-123-4567
    )
    (?![\w%/:]|[.,-]\d)                  # not followed by more of a number, a % or a word
    """,
    re.VERBOSE,
)
PHONE_DIGITS = (9, 15)
LAST_GROUP_RE = re.compile(r"[ .-]?(?:\(\d+\)|\d+)$")
PLACEHOLDERS = {"email": "<email>", "url": "<url>", "phone": "<phone>", "handle": "@user"}

# Presenter mode: canonical corpus columns that are categories or codes, not free text about a
# person, so they may stay on screen (see personal_text_columns).
CATEGORY_COLUMNS = frozenset({"id", "label", "country", "platform", "lang", "language"})
CATEGORY_PREFIXES = ("rater_", "stigma_")
GROUP_PREFIX = "group_"  # an extra column mapped as a group: judged by the name after it
# Columns that are free text about a person (or the post itself) whatever their values.
PERSONAL_TEXT_NAMES = frozenset({
    "text", "post", "snippet", "body", "title", "selftext", "tweet", "message", "content",
    "location", "user_location", "bio", "description", "user_description", "about", "profile",
    "author", "user", "username", "user_name", "screen_name", "name", "display_name", "handle",
    "email", "phone", "url", "notes", "note", "comment", "comments",
})
MOSTLY_UNIQUE = 0.5


def _digits(text: str) -> int:
    """How many digits ``text`` holds."""
    return sum(char.isdigit() for char in text)


def _phone(match: re.Match[str]) -> str:
    """``<phone>`` for a match with a phone number's count of digits (9-15), else the match.

    A match of more than 15 digits is cut back group by group from its end first, so that a
    number written right after a spaced phone number ("+44 20 7946 0000 2024") is kept.
    """
    found = match.group(0)
    number = found
    while _digits(number) > PHONE_DIGITS[1]:
        number = LAST_GROUP_RE.sub("", number)
    if _digits(number) < PHONE_DIGITS[0]:
        return found
    return PLACEHOLDERS["phone"] + found[len(number):]


def mask_pii(text: str) -> str:
    """Replace e-mails with ``<email>``, links with ``<url>``, phone numbers with ``<phone>``
    and @handles with ``@user``.

    E-mails go first so that their "@" is not read as a handle, links before phone numbers so
    that digits inside a link are not read as one; everything else is left exactly as it was.
    """
    text = EMAIL_RE.sub(PLACEHOLDERS["email"], text)
    text = URL_RE.sub(PLACEHOLDERS["url"], text)
    text = PHONE_RE.sub(_phone, text)
    return HANDLE_RE.sub(PLACEHOLDERS["handle"], text)


def mask_series(s: pd.Series) -> pd.Series:
    """``mask_pii`` over a column, once per unique text; missing and non-text cells stay as
    they are, and the index, name and dtype are kept."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return mask_series(s.astype(object)).astype("category")
    values = s.to_numpy(dtype=object, copy=True)
    codes, uniques = pd.factorize(values)
    masked = np.array([mask_pii(u) if isinstance(u, str) else u for u in uniques], dtype=object)
    present = codes >= 0
    values[present] = masked[codes[present]]
    return pd.Series(values, index=s.index, name=s.name).astype(s.dtype)


def is_text_column(s: pd.Series) -> bool:
    """True for a column that can hold strings: object, string or categorical dtype (numbers,
    booleans and dates cannot hold a personal detail, so they are never touched)."""
    return (
        pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
    )


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with handles, e-mails, links and phone numbers masked in every text
    column (post, location, bio, notes, author...); cells that are not strings stay as they are.

    The one way the library, the command line and the dashboard mask a table, so that no view
    or export can forget a column. Column names and the input frame are left unchanged.
    """
    masked = df.copy()
    for i in range(masked.shape[1]):
        column = masked.iloc[:, i]
        if is_text_column(column):
            masked.isetitem(i, mask_series(column))
    return masked


def _is_category_name(name: str) -> bool:
    """A canonical column that holds codes or categories (id, country, rater_x...)."""
    return name in CATEGORY_COLUMNS or name.startswith(CATEGORY_PREFIXES)


def _mostly_unique(s: pd.Series) -> bool:
    """More than half the non-missing values are distinct: free text rather than a category."""
    present = s.dropna()
    return len(present) > 0 and present.astype(str).nunique() > MOSTLY_UNIQUE * len(present)


def personal_text_columns(df: pd.DataFrame) -> list[str]:
    """The columns presenter mode hides: the post and any free text about a person.

    The rule: a column named like a post or a profile field (``text``, ``location``, ``bio``,
    ``author``... see ``PERSONAL_TEXT_NAMES``; also as a group column, ``group_bio``) is always
    hidden; numbers, booleans and dates never are; the canonical category columns (``id``,
    ``label``, ``country``, ``platform``, ``lang``, ``rater_*``, ``stigma_*``) stay; any other
    text column stays only when it looks like a category (at most half its values distinct,
    e.g. ``group_topic``) and is hidden otherwise, since mostly unique strings are free text
    (a bio under another name).
    """
    hidden = []
    for col in df.columns:
        name = str(col).strip().lower()
        column = df[col]
        if isinstance(column, pd.DataFrame):  # duplicated names: judge each copy alike
            column = column.iloc[:, 0]
        if name in PERSONAL_TEXT_NAMES or name.removeprefix(GROUP_PREFIX) in PERSONAL_TEXT_NAMES:
            hidden.append(col)
        elif is_text_column(column) and not _is_category_name(name) and _mostly_unique(column):
            hidden.append(col)
    return hidden


POST_ID_NAMES = frozenset({"id", "post_id", "tweet_id", "status_id", "comment_id", "permalink",
                           "link", "conversation_id"})


def post_identifier_columns(df: pd.DataFrame) -> list[str]:
    """Columns that find the original post even with its text hidden: its id (``id``,
    ``tweet_id``, ``permalink``...) and exact times (dates with a time of day). Presenter mode
    hides them too: a platform's post id, or a timestamp to the second with the platform,
    leads an audience straight to the post and its author."""
    found = []
    for col in df.columns:
        column = df[col]
        if str(col).strip().lower() in POST_ID_NAMES:
            found.append(col)
        elif pd.api.types.is_datetime64_any_dtype(column):
            times = column.dropna()
            if len(times) and (times != times.dt.normalize()).any():
                found.append(col)
    return found


def drop_personal_text(df: pd.DataFrame, also: Iterable[str] = ()) -> pd.DataFrame:
    """``df`` without the columns :func:`personal_text_columns` names (and ``also``)."""
    hidden = set(personal_text_columns(df)) | set(also)
    return df.drop(columns=[c for c in df.columns if c in hidden])
