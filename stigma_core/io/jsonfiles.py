"""JSON and JSON-lines corpora: lists of records, Twitter API v2 pages and Reddit exports.

Shapes understood, whatever the nesting of each post:

- a list of records (``[{"text": ...}, ...]``), or one record per line (.jsonl/.ndjson; a
  .json holding one object per line works too), or an object holding one such list;
- Twitter API v2 pages (``{"data": [tweets], "includes": {"users": [...]}}``), one per file
  or one per line: each author's username and location are joined in, and retweets marked;
- Reddit: a listing (``{"kind": "Listing", "data": {"children": [...]}}``) or a list of them
  (a post page: the post, then its comment tree), with nested ``replies`` flattened into rows,
  and Pushshift-style dumps (one comment or submission per line).

Anything else is a ``CorpusError`` that says which shapes work. Items that are not records
(a number or string among the posts, Reddit's "load more comments" stubs) are skipped and
logged. Nesting deeper than ``MAX_JSON_DEPTH`` is refused before it can exhaust the stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError
from stigma_core.io.decoding import text_of
from stigma_core.io.limits import MAX_JSON_DEPTH
from stigma_core.io.report import RepairLog
from stigma_core.io.sources import Blob

_LINE_END = re.compile(r"\r\n|\r|\n")
REDDIT_GONE = ("[removed]", "[deleted]")
SHAPES = (
    'Stigma Lens reads a list of records ([{"text": ...}, ...]), one record per line '
    "(.jsonl), a Twitter API v2 export or a Reddit export."
)


def read_json(blob: Blob, *, lines: bool, details: dict[str, str], repairs: RepairLog,
              notes: list[str]) -> pd.DataFrame:
    """The records of a JSON or JSON-lines file as a flat table (nested objects become
    dotted columns, e.g. ``user.location``)."""
    text, details["encoding"] = text_of(blob, repairs)
    if lines:
        values = _json_lines(text, blob.label)
    else:
        try:
            values = _loads(text, blob.label)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise CorpusError(
                    f"'{blob.label}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno}. Export it again, or save it as CSV."
                ) from None
            values = _json_lines(text, blob.label)
    _check_depth(values, blob.label)
    return _frame_from_json(values, blob.label, repairs, notes)


def _loads(text: str, label: str, line: int | None = None) -> Any:
    """``json.loads``, with nesting too deep for Python's stack as a CorpusError."""
    try:
        return json.loads(text)
    except RecursionError:
        where = f"Line {line} of '{label}'" if line else f"'{label}'"
        raise CorpusError(_depth_message(where)) from None


def _depth_message(where: str) -> str:
    return (
        f"{where} nests lists or objects more than {MAX_JSON_DEPTH} levels deep, which no "
        f"export of posts does. {SHAPES}"
    )


def _json_lines(text: str, label: str) -> list[Any]:
    """One JSON value per non-blank line; CorpusError naming a line that is not JSON."""
    values = []
    # Only \n, \r\n and \r end a line: str.splitlines would also split at U+0085 or U+2028,
    # which may stand unescaped inside a JSON string.
    for number, line in enumerate(_LINE_END.split(text), start=1):
        if not line.strip():
            continue
        try:
            values.append(_loads(line, label, number))
        except json.JSONDecodeError as exc:
            raise CorpusError(
                f"Line {number} of '{label}' is not valid JSON ({exc.msg}). A JSON-lines file "
                "needs one complete JSON object per line: fix or delete that line."
            ) from None
    return values


def _check_depth(value: Any, label: str) -> None:
    """CorpusError when lists and objects nest deeper than ``MAX_JSON_DEPTH`` (checked
    without recursion)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise CorpusError(_depth_message(f"'{label}'"))
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


# ---------------------------------------------------------------------------------------------
# Shapes


def _frame_from_json(value: Any, label: str, repairs: RepairLog,
                     notes: list[str]) -> pd.DataFrame:
    """A table from a list of records, API pages (Twitter v2) or Reddit listings."""
    if _is_twitter_page(value):
        return _twitter_frame([value], repairs, notes)
    if _is_reddit_listing(value) or (
            isinstance(value, list) and value and all(map(_is_reddit_listing, value))):
        return _reddit_text(pd.json_normalize(_reddit_records(value, repairs, notes)))
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else None
    if not isinstance(value, list) or (value and not any(isinstance(v, dict) for v in value)):
        raise CorpusError(f"'{label}' is JSON but not a list of posts. {SHAPES}")
    records = _records_only(value, "item", repairs)
    if records and all(map(_is_twitter_page, records)):
        return _twitter_frame(records, repairs, notes)
    return _reddit_text(pd.json_normalize(records))


def _records_only(values: list[Any], what: str, repairs: RepairLog) -> list[dict]:
    """The objects among ``values``; every other item logged as skipped (by position)."""
    records = []
    for position, item in enumerate(values, start=1):
        if isinstance(item, dict):
            records.append(item)
        else:
            repairs.add("item_skipped", f"skipped {what} {position}",
                        f"it is {_json_kind(item)}, not a record of a post")
    return records


def _json_kind(item: Any) -> str:
    """What a JSON value is, in words."""
    if item is None:
        return "null"
    kinds = {bool: "true/false", str: "a string", list: "a list", int: "a number",
             float: "a number"}
    return next((name for t, name in kinds.items() if isinstance(item, t)), "not an object")


def _is_twitter_page(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("data"), list)


def _is_reddit_listing(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("data"), dict) and (
        value.get("kind") == "Listing" or "children" in value["data"])


# ---------------------------------------------------------------------------------------------
# Twitter API v2


def _twitter_frame(pages: list[dict], repairs: RepairLog, notes: list[str]) -> pd.DataFrame:
    """Tweets of Twitter API v2 pages, with each author's username and location joined in.

    A tweet is a retweet when a referenced tweet has type "retweeted" (only decided when
    the export holds ``referenced_tweets``; otherwise canonicalise looks for "RT @").
    """
    tweets = _records_only([t for page in pages for t in page["data"]], "tweet", repairs)
    users = _twitter_users(pages, notes)
    frame = pd.json_normalize(tweets)
    if "referenced_tweets" in frame:
        frame["is_retweet"] = [_is_retweet(t.get("referenced_tweets")) for t in tweets]
        frame = frame.drop(columns="referenced_tweets")
    if "author_id" in frame:
        authors = frame["author_id"].astype(str)
        frame["username"] = authors.map({k: u.get("username") for k, u in users.items()})
        frame["user_location"] = authors.map({k: u.get("location") for k, u in users.items()})
        frame["platform"] = "twitter"
    return frame


def _twitter_users(pages: list[dict], notes: list[str]) -> dict[str, dict]:
    """Authors by id from the pages' ``includes.users``; a note when the pages have
    ``includes`` of another shape (their authors cannot be joined in)."""
    users: dict[str, dict] = {}
    odd = 0
    for page in pages:
        includes = page.get("includes")
        listed = includes.get("users") if isinstance(includes, dict) else None
        if includes is not None and not isinstance(listed, list):
            odd += 1
            continue
        users.update((str(u.get("id")), u) for u in listed or [] if isinstance(u, dict))
    if odd:
        notes.append(
            f"{odd:,} page{'s' * (odd != 1)} of the Twitter export ha{'ve' if odd != 1 else 's'} "
            "an 'includes' that is not an object with a list of users, so their authors' "
            "names and locations could not be joined in."
        )
    return users


def _is_retweet(references: Any) -> bool:
    """Whether a tweet's ``referenced_tweets`` has one of type "retweeted"."""
    if not isinstance(references, list):
        return False
    return any(isinstance(r, dict) and r.get("type") == "retweeted" for r in references)


# ---------------------------------------------------------------------------------------------
# Reddit


def _reddit_records(value: Any, repairs: RepairLog, notes: list[str]) -> list[dict]:
    """The posts and comments of one or more Reddit listings, replies flattened in order
    (each after its parent); "load more comments" stubs are counted in a note."""
    records: list[dict] = []
    stubs = 0
    for listing in [value] if isinstance(value, dict) else value:
        stubs += _listing_records(listing, records, repairs)
    if stubs:
        notes.append(f"{stubs:,} 'load more comments' links of the Reddit export were skipped: "
                     "they are not comments (fetch those comments to include them).")
    return records


def _listing_records(listing: dict, records: list[dict], repairs: RepairLog) -> int:
    """Append the children of one listing (and their replies) to ``records``; returns the
    number of "more" stubs met. Recursion is bounded by ``MAX_JSON_DEPTH``."""
    children = listing["data"].get("children")
    stubs = 0
    for position, child in enumerate(children if isinstance(children, list) else [], start=1):
        skipped = f"skipped child {position} of a Reddit listing"
        if not isinstance(child, dict):
            repairs.add("item_skipped", skipped,
                        f"it is {_json_kind(child)}, not a post or comment")
            continue
        if child.get("kind") == "more":
            stubs += 1
            continue
        data = child.get("data", child)
        if not isinstance(data, dict):
            repairs.add("item_skipped", skipped, "its 'data' is not an object")
            continue
        records.append({k: v for k, v in data.items() if k != "replies"})
        replies = data.get("replies")
        if _is_reddit_listing(replies):
            stubs += _listing_records(replies, records, repairs)
    return stubs


def _reddit_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A Reddit dump gains ``text`` (a comment's body, or a submission's title and selftext),
    ``kind`` (comment / submission) and ``platform``; "[removed]"/"[deleted]" count as empty.
    """
    if "subreddit" not in frame or "text" in frame or not {"body", "title"} & set(frame):
        return frame

    def part(column: str) -> pd.Series:
        values = frame[column] if column in frame else pd.Series("", index=frame.index)
        text = values.map(lambda v: v if isinstance(v, str) else "")
        return text.replace(list(REDDIT_GONE), "")

    body = part("body")
    submission = (part("title") + "\n\n" + part("selftext")).str.strip()
    is_comment = frame["body"].notna() if "body" in frame else pd.Series(False, frame.index)
    frame = frame.assign(text=body.where(is_comment, submission),
                         kind=np.where(is_comment, "comment", "submission"))
    if "platform" not in frame:
        frame["platform"] = "reddit"
    return frame
