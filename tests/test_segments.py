"""Segments: TF-IDF + LSA + k-means with k by silhouette, named by distinguishing terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stigma_core.errors import CorpusError
from stigma_core.segments import exemplars, find_segments, segment_profile

TOPICS = {
    "waiting": ("waiting list", "months", "referral", "appointment", "queue"),
    "family": ("mum", "dad", "family", "dinner", "brother"),
    "workplace": ("boss", "office", "meeting", "manager", "payslip"),
}


def _corpus(per_topic: int = 40, seed: int = 0) -> pd.DataFrame:
    """Posts on three clearly different topics; the family ones mostly on TikTok."""
    rng = np.random.default_rng(seed)
    rows = []
    for topic, words in TOPICS.items():
        for i in range(per_topic):
            picked = rng.choice(words, size=3, replace=False)
            text = f"post {i}: " + " and ".join(picked) + f" again @someone{i}"
            platform = ("tiktok" if (topic == "family") == (i % 8 != 0) else "reddit")
            rows.append((text, topic, platform, int(topic == "workplace")))
    return pd.DataFrame(rows, columns=["text", "topic", "platform", "stigma_predicted"])


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return _corpus()


@pytest.fixture(scope="module")
def found(corpus: pd.DataFrame):
    return find_segments(corpus["text"], k_values=range(2, 7), seed=0)


def test_finds_the_three_topics_and_picks_k_by_silhouette(corpus, found) -> None:
    assert found.k == 3
    assert max(found.silhouettes, key=found.silhouettes.get) == 3
    purity = pd.crosstab(found.labels, corpus["topic"]).max(axis=1).sum() / len(corpus)
    assert purity == 1.0


def test_segments_are_named_by_their_distinguishing_words(corpus, found) -> None:
    table = found.table
    assert list(table.columns) == ["segment", "name", "terms", "n", "share"]
    assert table["n"].sum() == len(corpus) and table["share"].sum() == pytest.approx(1.0)
    for words in TOPICS.values():
        names = [name for name in table["terms"] if any(w in name for w in words)]
        assert len(names) == 1, (words, table["terms"].tolist())
    assert not any("someone" in t or "user" in t for t in table["terms"])  # handles masked


def test_exemplars_are_masked_posts_of_their_segment(corpus, found) -> None:
    examples = exemplars(corpus["text"], found, n=2)
    assert set(examples) == set(found.table["segment"])
    masked = corpus["text"].str.replace(r"@\w+", "@user", regex=True)
    for segment, posts in examples.items():
        assert len(posts) == 2
        assert all("@user" in p and "@someone" not in p for p in posts)
        topics = {corpus.loc[masked == p, "topic"].iloc[0] for p in posts}
        assert topics == set(corpus.loc[found.labels == segment, "topic"])


def test_profile_gives_stigma_share_and_where_over_represented(corpus, found) -> None:
    profile = segment_profile(corpus, found.labels, by=("platform", "country"), min_n=10)
    assert "country_top" not in profile  # no such column: nothing made up
    by_topic = {corpus.loc[found.labels == s, "topic"].iloc[0]: row
                for s, row in profile.set_index("segment").iterrows()}
    assert by_topic["workplace"]["stigma_share"] == 1.0
    assert by_topic["family"]["stigma_share"] == 0.0
    assert by_topic["family"]["stigma_ci_high"] < 0.15
    assert by_topic["family"]["platform_top"] == "tiktok"
    assert by_topic["family"]["platform_lift"] > 1.5 and by_topic["family"]["platform_n"] == 35
    assert by_topic["waiting"]["platform_top"] == "reddit"


def test_a_retweet_joins_its_original_and_seeds_repeat() -> None:
    corpus = _corpus(30)
    texts = pd.concat([corpus["text"], "RT @news: " + corpus["text"].iloc[:5]],
                      ignore_index=True)
    first = find_segments(texts, k_values=(3,), seed=1)
    again = find_segments(texts, k_values=(3,), seed=1)
    assert (first.labels[-5:] == first.labels[:5]).all()
    assert (first.labels == again.labels).all()
    assert first.table["n"].sum() == len(texts)


def test_too_few_posts_are_refused() -> None:
    with pytest.raises(CorpusError, match="at least 20 distinct posts"):
        find_segments(["same post"] * 50 + ["", None])


def test_separation_is_said_in_plain_words_by_the_rule_of_thumb(found) -> None:
    from dataclasses import replace
    said = {v: replace(found, silhouettes={found.k: v}).separation() for v in (0.1, 0.4, 0.6)}
    assert said[0.1].startswith("Silhouette 0.10: the segments overlap a lot")
    assert "weakly separated" in said[0.4] and "clearly separated" in said[0.6]
    assert found.separation().startswith(f"Silhouette {found.silhouettes[found.k]:.2f}")
