"""The fast text steps for scoring give exactly what scikit-learn's would."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from stigma_core import fastscore
from stigma_core.fastscore import FastVectorizer, count_matrix, fast_pipeline, supports
from stigma_core.models import train_models
from stigma_core.persist import bundle_from_run
from stigma_core.text import preprocess_many

EDGE_DOCS = [
    "", "   ", "a", "a a a b", "UPPER lower Upper", "tab\tsep\nnew\u00a0nbsp\u2003em",
    "unseen words only", "x" * 50, "ß straße İstanbul ǅ", "a\x1cb\x1fc", "dup dup DUP dUp",
    "ΟΔΟΣ ΣΑΣ Σ", "a\x00b dup",
]


def assert_same_matrix(ours: object, theirs: object) -> None:
    assert type(ours) is type(theirs)
    assert ours.shape == theirs.shape
    for attribute in ("data", "indices", "indptr"):
        mine, reference = getattr(ours, attribute), getattr(theirs, attribute)
        assert mine.dtype == reference.dtype, attribute
        assert np.array_equal(mine, reference), attribute
    assert ours.has_sorted_indices and theirs.has_sorted_indices


def test_whitespace_token_pattern_is_str_split() -> None:
    space = re.compile(r"\s")
    differ = [i for i in range(sys.maxunicode + 1) if not 0xD800 <= i < 0xE000
              and bool(space.fullmatch(chr(i))) != chr(i).isspace()]
    assert differ == []


@pytest.mark.parametrize("make", [
    lambda: TfidfVectorizer(token_pattern=r"\S+", smooth_idf=False),
    lambda: TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, norm="l1"),
    lambda: CountVectorizer(token_pattern=r"\S+"),
    lambda: CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True),
    lambda: TfidfVectorizer(token_pattern=r"\S+", min_df=2, max_features=300),
])
def test_count_matrix_equals_the_vectoriser(make, sample_dir: Path) -> None:
    texts = pd.read_csv(sample_dir / "corpus.csv")["text"].dropna().astype(str).tolist()
    docs = preprocess_many(texts)
    vectorizer = make().fit(docs[: len(docs) // 2] + ["UPPER a dup"])
    assert supports(vectorizer)
    probe = docs + EDGE_DOCS
    theirs = CountVectorizer.transform(vectorizer, probe)
    assert_same_matrix(count_matrix(vectorizer, probe), theirs)
    assert_same_matrix(FastVectorizer(vectorizer).transform(probe), vectorizer.transform(probe))
    assert theirs.nnz > 1000  # the probe really counted something
    for odd in ([], [""], ["dup \x00 dup", "a"], ["\x00"], ["x"] * 3):  # break token inside
        assert_same_matrix(count_matrix(vectorizer, odd),
                           CountVectorizer.transform(vectorizer, odd))


@pytest.mark.real_data
def test_count_matrix_on_real_posts(real_corpus_path: Path) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].dropna().astype(str)
    docs = preprocess_many(texts.tolist())
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", smooth_idf=False).fit(docs[::2])
    assert_same_matrix(FastVectorizer(vectorizer).transform(docs), vectorizer.transform(docs))


def test_unsupported_vectorisers_are_left_alone() -> None:
    docs = ["mind health care", "health care talk"]
    for vectorizer in (TfidfVectorizer(), TfidfVectorizer(token_pattern=r"\S+",
                                                           ngram_range=(1, 2)),
                       TfidfVectorizer(token_pattern=r"\S+", stop_words="english"),
                       TfidfVectorizer(token_pattern=r"\S+", analyzer="char")):
        assert not supports(vectorizer.fit(docs))
    assert not supports(TfidfVectorizer(token_pattern=r"\S+"))  # not fitted


@pytest.fixture(scope="module")
def bundles(sample_dir: Path) -> dict:
    df = pd.read_csv(sample_dir / "train.csv")
    families = ["logistic_regression", "naive_bayes", "svm_linear", "ngrams_lr"]
    run = train_models(df, families, grid="fast", seed=0)
    return {f: bundle_from_run(run, f) for f in families}


def test_fast_pipeline_gives_identical_probabilities(bundles: dict, sample_dir: Path) -> None:
    texts = pd.read_csv(sample_dir / "corpus.csv")["text"].fillna("").astype(str)
    frame = pd.DataFrame({"text": np.asarray(texts.tolist() + EDGE_DOCS, dtype=object)})
    swapped = 0
    for family, bundle in bundles.items():
        fast = fast_pipeline(bundle.pipeline)
        swapped += fast is not bundle.pipeline
        assert fast_pipeline(bundle.pipeline) is fast  # remembered
        assert np.array_equal(fast.predict_proba(frame), bundle.pipeline.predict_proba(frame)), \
            family
    assert swapped >= 2  # the TF-IDF families really took the fast path


def test_fast_vectoriser_falls_back_for_non_strings() -> None:
    vectorizer = CountVectorizer(token_pattern=r"\S+").fit(["a b", "c"])
    with pytest.raises(AttributeError):  # what scikit-learn itself raises for a number
        FastVectorizer(vectorizer).transform(["a", 3])
    assert fastscore.fast_pipeline("not a pipeline") == "not a pipeline"
