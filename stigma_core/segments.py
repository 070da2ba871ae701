"""Segments: groups of posts that talk alike, named by the words that set them apart.

Why: shares by domain and theme answer questions someone thought to ask; segments show what
the corpus itself is made of — the recurring conversations a campaign meets. Posts become
TF-IDF vectors (handles, links and e-mails masked first, stop words and retweet markers left
out), reduced to 50 latent dimensions (TruncatedSVD, "LSA", unit length) where MiniBatchKMeans
groups them — on raw sparse TF-IDF k-means tends to leave one giant catch-all cluster — and
``k`` is the one with the best silhouette over a small seeded range. Each segment is named by
its distinguishing terms: the terms whose mean TF-IDF weight inside the segment exceeds their
mean outside it the most (a class-based TF-IDF in the spirit of BERTopic's c-TF-IDF).

Distinct texts are clustered once (a retweet counts as its original post, so a few loud posts
cannot make their own segment); large corpora are fitted on a seeded random sample of distinct
posts and every post is then assigned to its nearest segment centre.

``segment_profile`` adds what a reader needs: size, stigma share with a Wilson 95% CI (when the
posts are scored), and where the segment is over-represented (the platform or country with the
highest lift, with its n). ``exemplars`` gives the posts nearest each centre, masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from stigma_core.errors import CorpusError
from stigma_core.privacy import mask_pii

K_VALUES = tuple(range(3, 9))
MAX_FIT = 20_000
SILHOUETTE_SAMPLE = 2_000
EXTRA_STOP_WORDS = ("rt", "user", "url", "email", "amp", "just", "lol", "ngl", "like", "really",
                    "honestly", "tbh", "im", "dont", "don", "thats", "gonna", "saw", "ok", "isn",
                    "doesn", "didn", "ve", "ll", "re", "wasn", "aren", "won", "oh", "yeah")
MAX_DF = 0.5
"""Words in more than this share of posts are left out: they tell no segment apart."""
N_COMPONENTS = 50
"""Dimensions of the latent semantic space (TruncatedSVD) the posts are clustered in."""
_RETWEET = re.compile(r"^\s*RT @\w+:\s*", re.IGNORECASE)
MIN_POSTS = 20


@dataclass(frozen=True)
class Segmentation:
    """Segments of a corpus: one label per post, the table of segments and how ``k`` was
    chosen.

    ``table``: ``segment, name, terms, n, share`` (share of all posts), largest first.
    ``silhouettes``: ``k -> silhouette`` of each ``k`` tried (higher: better separated).
    ``nearest``: per segment, positions (in the input) of the distinct posts nearest its
    centre, nearest first.
    """

    labels: np.ndarray
    table: pd.DataFrame
    k: int
    silhouettes: dict[int, float]
    nearest: dict[int, list[int]] = field(default_factory=dict)

    def separation(self) -> str:
        """How clearly the chosen segments stand apart, in plain words, by Kaufman and
        Rousseeuw's rule of thumb for the silhouette (over 0.5 reasonable, 0.26-0.5 weak, up to
        0.25 no substantial structure) — so a reader does not take loose themes for groups."""
        value = self.silhouettes[self.k]
        if value > 0.5:
            return f"Silhouette {value:.2f}: the segments are clearly separated."
        if value > 0.25:
            return (f"Silhouette {value:.2f}: the segments are only weakly separated; many "
                    "posts sit between two of them.")
        return (f"Silhouette {value:.2f}: the segments overlap a lot (0.25 or less means no "
                "clear structure by the usual rule of thumb) — read them as common ways of "
                "talking, not as distinct groups of posts.")


def _clean(texts: Sequence[object]) -> pd.Series:
    """Texts as strings with the retweet marker dropped and personal details masked."""
    values = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    return values.str.replace(_RETWEET, "", regex=True).map(mask_pii)


def _vectorizer(n_docs: int) -> object:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    return TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS | set(EXTRA_STOP_WORDS)),
        token_pattern=r"(?u)\b[a-zA-Z]{2,}\b", ngram_range=(1, 2), sublinear_tf=True,
        min_df=2 if n_docs >= 50 else 1, max_df=MAX_DF if n_docs >= 50 else 1.0,
        max_features=20_000)


def find_segments(texts: Sequence[object], *, k_values: Sequence[int] = K_VALUES,
                  seed: int = 0, max_fit: int = MAX_FIT, n_terms: int = 8,
                  n_nearest: int = 5) -> Segmentation:
    """Cluster the posts and name the clusters (see the module docstring).

    ``k_values``: the numbers of segments to try (silhouette picks one; seeded). ``CorpusError``
    when there are fewer than ``MIN_POSTS`` distinct non-empty posts.
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.metrics import silhouette_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    cleaned = _clean(texts)
    codes, uniques = pd.factorize(cleaned.str.strip().str.lower())
    present = np.array([bool(u) for u in uniques])
    if present.sum() < MIN_POSTS:
        raise CorpusError(f"Segments need at least {MIN_POSTS} distinct posts with words "
                          f"(got {int(present.sum())}).")
    first_position = pd.Series(np.arange(len(codes))).groupby(codes).first()
    distinct_text = cleaned.iloc[first_position.loc[np.flatnonzero(present)].to_numpy()]
    distinct_text = distinct_text.reset_index(drop=True)
    # One thread: on a few thousand rows the clustering gains nothing from OpenMP or BLAS
    # threads, and beside other busy processes their spinning made it 5-10x slower (the
    # same labels either way).
    with threadpool_limits(limits=1):
        rng = np.random.default_rng(seed)
        fit_rows = (rng.choice(len(distinct_text), max_fit, replace=False)
                    if len(distinct_text) > max_fit else np.arange(len(distinct_text)))
        vectorizer = _vectorizer(len(fit_rows))
        fitted_tfidf = vectorizer.fit_transform(distinct_text.iloc[fit_rows])
        components = min(N_COMPONENTS, fitted_tfidf.shape[1] - 1, len(fit_rows) - 1)
        if components < 2:
            raise CorpusError("These posts share too few words to form segments.")
        reducer = make_pipeline(TruncatedSVD(components, random_state=seed), Normalizer())
        fitted = reducer.fit_transform(fitted_tfidf)
        ks = [k for k in k_values if 2 <= k < len(fit_rows)]
        if not ks:
            raise CorpusError("Choose numbers of segments between 2 and the number of posts.")
        models, silhouettes = {}, {}
        sample = min(SILHOUETTE_SAMPLE, len(fit_rows))
        for k in ks:
            model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3,
                                    batch_size=2048).fit(fitted)
            models[k] = model
            if len(set(model.labels_)) < 2:
                silhouettes[k] = -1.0
                continue
            silhouettes[k] = float(silhouette_score(fitted, model.labels_, sample_size=sample,
                                                    random_state=seed))
        best = max(ks, key=lambda k: (round(silhouettes[k], 6), -k))
        model = models[best]
        all_tfidf = vectorizer.transform(distinct_text)
        all_vectors = reducer.transform(all_tfidf)
        distinct_labels = model.predict(all_vectors)
        per_code = np.full(len(uniques), -1)
        per_code[np.flatnonzero(present)] = distinct_labels
        labels = per_code[codes]
        table = _name_segments(all_tfidf, distinct_labels, vectorizer.get_feature_names_out(),
                               labels, n_terms)
        nearest = _nearest(all_vectors, distinct_labels, model.cluster_centers_,
                           first_position.loc[np.flatnonzero(present)].to_numpy(), n_nearest)
        return Segmentation(labels, table, best, silhouettes, nearest)


def _name_segments(vectors: object, distinct_labels: np.ndarray, terms: np.ndarray,
                   labels: np.ndarray, n_terms: int) -> pd.DataFrame:
    """Each segment's distinguishing terms (mean TF-IDF inside minus outside) and size."""
    rows = []
    total = int((labels >= 0).sum())
    for segment in sorted(set(distinct_labels)):
        inside = distinct_labels == segment
        mean_in = np.asarray(vectors[inside].mean(axis=0)).ravel()
        mean_out = (np.asarray(vectors[~inside].mean(axis=0)).ravel() if (~inside).any()
                    else np.zeros_like(mean_in))
        lift = mean_in - mean_out
        top = _distinct_terms((terms[i] for i in np.argsort(-lift) if lift[i] > 0), n_terms)
        n = int((labels == segment).sum())
        rows.append({"segment": int(segment), "name": " / ".join(top[:3]) or "(no words)",
                     "terms": ", ".join(top), "n": n, "share": n / total if total else np.nan})
    table = pd.DataFrame(rows).sort_values(["n", "segment"], ascending=[False, True])
    return table.reset_index(drop=True)


def _distinct_terms(ranked: Iterable[str], n: int) -> list[str]:
    """The first ``n`` terms that add a word: "thanks" after "edit thanks" is left out."""
    chosen: list[str] = []
    seen: set[str] = set()
    for term in ranked:
        words = set(term.split())
        if words <= seen:
            continue
        chosen.append(term)
        seen |= words
        if len(chosen) == n:
            break
    return chosen


def _nearest(vectors: object, distinct_labels: np.ndarray, centres: np.ndarray,
             positions: np.ndarray, n: int) -> dict[int, list[int]]:
    """Input positions of the distinct posts nearest each centre (cosine), nearest first."""
    out = {}
    for segment in sorted(set(distinct_labels)):
        rows = np.flatnonzero(distinct_labels == segment)
        similarity = np.asarray(vectors[rows] @ centres[segment]).ravel()
        order = rows[np.argsort(-similarity, kind="stable")[:n]]
        out[int(segment)] = [int(p) for p in positions[order]]
    return out


def exemplars(texts: Sequence[object], segmentation: Segmentation, n: int = 3
              ) -> dict[int, list[str]]:
    """Up to ``n`` posts nearest each segment's centre, personal details masked
    (``privacy.mask_pii``). Never show these in presenter mode."""
    values = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    return {segment: [mask_pii(values.iloc[p]) for p in positions[:n]]
            for segment, positions in segmentation.nearest.items()}


def segment_profile(frame: pd.DataFrame, labels: np.ndarray, *,
                    by: Sequence[str] = ("platform", "country"),
                    predicted_col: str = "stigma_predicted", min_n: int = 30,
                    min_in_segment: int = 10) -> pd.DataFrame:
    """Per segment: ``segment, n, stigma_share, stigma_ci_low, stigma_ci_high`` (Wilson 95%,
    NaN without predictions or under ``min_n`` posts) and, per ``by`` column present,
    where it is over-represented: ``<by>_top`` (the group with the highest lift among groups
    of at least ``min_n`` posts where the segment has ``min_in_segment`` posts or more,
    "(not known)" left out), ``<by>_lift`` (the segment's share of that group's posts over its
    share of all posts) and ``<by>_n`` (its posts there).
    """
    from stigma_core.insights import MISSING_GROUP, group_keys
    from stigma_core.metrics import wilson_interval

    labels = np.asarray(labels)
    if len(labels) != len(frame):
        raise CorpusError("The segment labels do not match the posts (different lengths).")
    kept = labels >= 0
    rows = []
    for segment in sorted(set(labels[kept])):
        inside = labels == segment
        n = int(inside.sum())
        record: dict[str, object] = {"segment": int(segment), "n": n}
        if predicted_col in frame.columns:
            k = int(pd.to_numeric(frame.loc[inside, predicted_col], errors="coerce")
                    .fillna(0).sum())
            low, high = wilson_interval(k, n)
            enough = n >= min_n
            record.update(stigma_share=k / n if enough else np.nan,
                          stigma_ci_low=low if enough else np.nan,
                          stigma_ci_high=high if enough else np.nan, stigma_k=k)
        rows.append(record)
    table = pd.DataFrame(rows)
    for column in by:
        if column not in frame.columns or table.empty:
            continue
        keys = pd.Series(group_keys(frame, column))[kept]
        seg = pd.Series(labels[kept])
        counts = pd.crosstab(seg.to_numpy(), keys.to_numpy())
        sizes = counts.sum(axis=0)
        usable = [g for g in counts.columns if sizes[g] >= min_n and g != MISSING_GROUP]
        tops, lifts, ns = [], [], []
        for segment in table["segment"]:
            best = (None, np.nan, 0)
            seg_share = counts.loc[segment].sum() / counts.to_numpy().sum()
            for group in usable:
                there = int(counts.loc[segment, group])
                if there < min_in_segment:
                    continue
                lift = (there / sizes[group]) / seg_share
                if best[0] is None or lift > best[1]:
                    best = (group, float(lift), there)
            tops.append(best[0])
            lifts.append(best[1])
            ns.append(best[2])
        table[f"{column}_top"] = tops
        table[f"{column}_lift"] = lifts
        table[f"{column}_n"] = ns
    return table
