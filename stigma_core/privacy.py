"""Masking of personal details in posts: @handles, links and e-mail addresses.

Privacy by default: every post the dashboard shows or exports passes through ``mask_series``
unless the user turns masking off, so a post can be read without pointing at a person. Kept
apart from the text preprocessing so that masking needs nothing heavier than ``re`` and pandas.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# An e-mail: something@domain.tld (the domain needs a dot, so "me@home" is left alone).
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A link starting http://, https:// or www.; a closing bracket or sentence punctuation right
# after it is not part of it.
URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
# An @handle that starts a word (so the "@" inside "me@home" is not one).
HANDLE_RE = re.compile(r"(?<![\w@])@\w+")


def mask_pii(text: str) -> str:
    """Replace e-mails with ``<email>``, links with ``<url>`` and @handles with ``@user``.

    E-mails go first so that their "@" is not read as a handle; everything else in the text
    is left exactly as it was.
    """
    text = EMAIL_RE.sub("<email>", text)
    text = URL_RE.sub("<url>", text)
    return HANDLE_RE.sub("@user", text)


def mask_series(s: pd.Series) -> pd.Series:
    """``mask_pii`` over a column, once per unique text; missing and non-text cells stay as
    they are, and the index, name and dtype are kept."""
    values = s.to_numpy(dtype=object, copy=True)
    codes, uniques = pd.factorize(values)
    masked = np.array([mask_pii(u) if isinstance(u, str) else u for u in uniques], dtype=object)
    present = codes >= 0
    values[present] = masked[codes[present]]
    return pd.Series(values, index=s.index, name=s.name).astype(s.dtype)
