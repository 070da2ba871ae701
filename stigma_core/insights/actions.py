"""What to do: where awareness outruns actionable advice, and the help-seeking questions asked.

``action_gap`` compares actionable, awareness and help-seeking content per domain (``gap_words``
and ``gap_sentences`` say it in plain words); ``help_questions`` groups the help-seeking
posts' questions by a second small lexicon (``LEXICON["help_topic"]``) — what a campaign can
answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from stigma_core.insights.lexicon import CLASS_NAMES, CLASSES, DOMAINS
from stigma_core.insights.shares import DEFAULT_MIN_N, tag_shares
from stigma_core.insights.tagger import tag
from stigma_core.privacy import mask_pii


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
