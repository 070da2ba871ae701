"""The ten engineered features, the sklearn step around them, and the Welch t-tests."""

from __future__ import annotations

import string
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from textblob import TextBlob
from textblob.en.sentiments import PatternAnalyzer

from stigma_core import features as features_module
from stigma_core.errors import CorpusError, ModelError
from stigma_core.features import (
    FEATURE_NAMES,
    WELCH_COLUMNS,
    EngineeredFeatures,
    compute_features,
    significant_features,
    text_sentiment,
    welch_tests,
)
from stigma_core.sentiment import sentiment_many
from stigma_core.text import TextPreprocessor

HELLO = "Hello WORLD!! #mh 2024"


def test_feature_names_are_the_papers_ten() -> None:
    assert FEATURE_NAMES == (
        "sentiment", "subjectivity", "length", "punctuation_ratio", "uppercase_words",
        "avg_word_length", "word_count", "char_count", "hashtag_count", "numeric_count",
    )


def test_every_feature_on_a_hand_counted_post() -> None:
    row = compute_features([HELLO]).iloc[0]
    # words: "Hello" "WORLD!!" "#mh" "2024"; 22 characters of which 3 are spaces
    assert row["length"] == 22
    assert row["char_count"] == 19
    assert row["word_count"] == 4
    assert row["punctuation_ratio"] == pytest.approx(2 / 22)  # "!!"; '#' is not counted
    assert row["uppercase_words"] == 1  # WORLD; "Hello" has lower-case letters
    assert row["avg_word_length"] == pytest.approx((5 + 5 + 2 + 0) / 4)
    assert row["hashtag_count"] == 1
    assert row["numeric_count"] == 4
    assert (row["sentiment"], row["subjectivity"]) == (0.0, 0.0)  # no opinion words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "good" is 0.7/0.6 in TextBlob's lexicon; "not" flips and halves; "very" x1.3
        ("good", (0.7, 0.6)),
        ("not good", (-0.35, 0.6)),
        ("very good", (0.91, 0.78)),
        ("", (0.0, 0.0)),
    ],
)
def test_sentiment_and_subjectivity_by_hand(text: str, expected: tuple[float, float]) -> None:
    row = compute_features([text]).iloc[0]
    assert (row["sentiment"], row["subjectivity"]) == pytest.approx(expected)


def test_counts_on_tricky_posts() -> None:
    texts = [
        "C# #2024 ##x NHS I",  # hashtags: only "#x" (C# is glued, #2024 has no letter)
        "Wait… “what” — no",  # Unicode punctuation: … “ ” — ; 17 characters
        "a+b=c $5 😀",  # + = $ are string.punctuation, the emoji is not; 10 characters
        "a\tb\n c\u00a0d",  # tab, newline, space, no-break space are all whitespace
        "",
    ]
    f = compute_features(texts)
    assert f["hashtag_count"].tolist() == [1, 0, 0, 0, 0]
    assert f["uppercase_words"].tolist() == [1, 0, 0, 0, 0]  # "NHS"; "C#" has one letter
    assert f["length"].tolist() == [18, 17, 10, 8, 0]
    # '#' never counts as punctuation: it opens hashtags
    assert f["punctuation_ratio"].tolist() == pytest.approx([0, 4 / 17, 3 / 10, 0, 0])
    assert f["char_count"].tolist() == [14, 14, 8, 4, 0]
    assert f["word_count"].tolist() == [5, 4, 3, 4, 0]
    assert f["avg_word_length"].tolist() == pytest.approx([6 / 5, 10 / 4, 3 / 3, 4 / 4, 0])
    assert f["numeric_count"].tolist() == [4, 0, 1, 0, 0]
    # letters need not touch: "U.S." is two upper-case letters; "I" is one
    assert compute_features(["the U.S. and I"])["uppercase_words"].tolist() == [1]


def _reference(text: str) -> dict[str, float]:
    """The module docstring's definitions, written plainly one character or word at a time."""
    marks = set(string.punctuation) - {"#", "@"}
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    n_punct = sum(
        c in marks or unicodedata.category(c).startswith("P") and c not in "#@" and ord(c) < 0x10000
        for c in text
    )
    return {
        "length": len(text),
        "char_count": sum(not c.isspace() for c in text),
        "word_count": len(words),
        "numeric_count": sum(c.isdecimal() for c in text),
        "avg_word_length": len(letters) / len(words) if words else 0.0,
        "punctuation_ratio": n_punct / len(text) if text else 0.0,
        "uppercase_words": sum(
            sum(c.isalpha() for c in w) >= 2 and w.isupper() for w in words
        ),
    }


def test_vectorised_counts_match_plain_definitions_on_random_posts() -> None:
    # \U00010100 is punctuation (Po) beyond the Basic Multilingual Plane: not counted
    alphabet = list("aZéÉß中 \t\n\u00a0#@!?.,'’“”…—-_$+😀0123٣\U00010100")
    alphabet += ["NHS", "ok", "#mh", "x@y"]
    rng = np.random.default_rng(7)
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 25))) for _ in range(300)]
    got = compute_features(texts)
    want = pd.DataFrame([_reference(t) for t in texts])
    pd.testing.assert_frame_equal(
        got[want.columns].astype(float), want.astype(float), check_exact=False
    )


def test_fast_sentiment_route_is_identical_to_textblob() -> None:
    texts = ["I love you :)", "not very bad at all!!", "Schizophrenics are DANGEROUS", "", HELLO]
    analyzer = PatternAnalyzer()
    for t in texts:
        assert text_sentiment(t) == tuple(TextBlob(t).sentiment) == tuple(analyzer.analyze(t))


@pytest.mark.real_data
def test_fast_sentiment_route_is_identical_on_the_real_corpus(real_corpus_path: Path) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].sample(400, random_state=0)
    assert [text_sentiment(t) for t in texts] == [tuple(TextBlob(t).sentiment) for t in texts]


def test_compute_features_dedupes_and_keeps_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    s = pd.Series(["good stuff", "bad", "good stuff"], index=[10, 20, 30])
    seen: list[list[str]] = []

    def recording(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return sentiment_many(texts)

    monkeypatch.setattr(features_module, "sentiment_many", recording)
    f = compute_features(s)
    assert seen == [["good stuff", "bad"]]  # one batch, each distinct text once
    assert f.index.tolist() == [10, 20, 30]
    assert f.columns.tolist() == list(FEATURE_NAMES)
    assert f.loc[10].tolist() == f.loc[30].tolist()
    assert f.loc[10, "length"] == 10 and f.loc[20, "length"] == 3


def test_compute_features_subset_and_unknown_names() -> None:
    f = compute_features(["ab cd"], columns=["word_count", "length"])
    assert f.columns.tolist() == ["word_count", "length"] and f.iloc[0].tolist() == [2, 5]
    with pytest.raises(ModelError, match="Unknown features: lenght. Choose one or more"):
        compute_features(["x"], columns=["lenght"])
    with pytest.raises(ModelError, match="No features chosen"):
        compute_features(["x"], columns=[])


@pytest.mark.parametrize("as_frame", [False, True])
def test_engineered_features_transformer(as_frame: bool) -> None:
    texts = ["good", HELLO]
    X = pd.DataFrame({"text": texts, "other": [1, 2]}) if as_frame else np.array(texts)
    step = EngineeredFeatures(columns=("length", "hashtag_count", "sentiment")).fit(X)
    out = step.transform(X)
    assert out.dtype == float
    np.testing.assert_allclose(out, [[4, 0, 0.7], [22, 1, 0.0]])
    assert step.get_feature_names_out().tolist() == ["length", "hashtag_count", "sentiment"]
    frame = step.set_output(transform="pandas").transform(X)
    assert frame.columns.tolist() == ["length", "hashtag_count", "sentiment"]


def test_engineered_features_refuse_unknown_columns_at_fit() -> None:
    with pytest.raises(ModelError, match="lenght"):
        EngineeredFeatures(columns=["lenght"]).fit(["x"])


@pytest.mark.parametrize("selector", ["text", ["text"]])
def test_pipeline_with_column_transformer_over_a_dataframe(selector: object) -> None:
    good = ["you are kind and brave", "great support today", "recovery is possible, #hope"]
    bad = ["they are CRAZY and DANGEROUS!!!", "psychos should be locked up!", "mad and violent"]
    df = pd.DataFrame({"text": good * 4 + bad * 4, "label": [0] * 12 + [1] * 12})
    columns = ("length", "uppercase_words", "punctuation_ratio")
    pipe = Pipeline([
        ("features", ColumnTransformer([
            ("words", make_pipeline(TextPreprocessor(), TfidfVectorizer()), selector),
            ("eng", make_pipeline(EngineeredFeatures(columns), StandardScaler()), selector),
        ])),
        ("model", LogisticRegression()),
    ])
    pipe.fit(df[["text"]], df["label"])
    assert pipe.predict(df[["text"]]).tolist() == df["label"].tolist()
    names = pipe[0].get_feature_names_out().tolist()
    assert [n for n in names if n.startswith("eng__")] == [f"eng__{c}" for c in columns]
    assert "words__crazy" in names and "words__psycho" in names
    search = GridSearchCV(pipe, {"features__eng__engineeredfeatures__columns": [
        ("length",), columns]}, cv=2).fit(df[["text"]], df["label"])
    assert search.best_params_["features__eng__engineeredfeatures__columns"] in [("length",),
                                                                               columns]


def _two_class_sample(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """60 stigmatising and 90 other rows: a shifted feature, noise, a feature whose two groups
    hold the very same values (30 values twice vs three times), and a constant."""
    rng = np.random.default_rng(seed)
    y = np.array([1] * 60 + [0] * 90)
    shared = rng.normal(size=30)
    features = pd.DataFrame({
        "shifted": rng.normal(size=150) + 2.0 * y,
        "noise": rng.normal(size=150),
        "mirrored": np.concatenate([np.tile(shared, 2), np.tile(shared, 3)]),
        "constant": np.full(150, 3.0),
    })
    return features, y


def test_welch_tests_match_scipy_column_by_column() -> None:
    features, y = _two_class_sample()
    table = welch_tests(features[["shifted", "noise"]], y)
    assert table.columns.tolist() == list(WELCH_COLUMNS)
    assert table.index.tolist() == ["shifted", "noise"] and table.index.name == "feature"
    for name in ["shifted", "noise"]:
        a, b = features.loc[y == 1, name], features.loc[y == 0, name]
        res = stats.ttest_ind(a, b, equal_var=False)
        ci = res.confidence_interval(0.95)
        row = table.loc[name]
        assert row["t"] == pytest.approx(res.statistic)
        assert row["p"] == pytest.approx(res.pvalue)
        assert row["df"] == pytest.approx(res.df)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
        assert row["diff"] == pytest.approx(a.mean() - b.mean())
        assert (row["mean_stigma"], row["sd_stigma"]) == pytest.approx((a.mean(), a.std()))
        assert (row["mean_other"], row["sd_other"]) == pytest.approx((b.mean(), b.std()))
        assert (row["n_stigma"], row["n_other"]) == (60, 90)


def test_welch_significance_flags_and_constant_feature() -> None:
    features, y = _two_class_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a constant feature must not even warn
        table = welch_tests(features, y)
    assert bool(table.loc["shifted", "significant"]) and table.loc["shifted", "p"] < 1e-10
    assert table.loc["mirrored", "p"] == pytest.approx(1.0)
    assert not table.loc["mirrored", "significant"]
    assert np.isnan(table.loc["constant", "t"]) and not table.loc["constant", "significant"]
    assert table["significant"].dtype == bool
    expected = ["shifted"] + (["noise"] if table.loc["noise", "p"] < 0.05 else [])
    assert significant_features(table) == expected


def test_welch_alpha_sets_flag_and_interval_level() -> None:
    rng = np.random.default_rng(3)
    y = np.array([1] * 40 + [0] * 40)
    x = rng.normal(size=80) + 0.5 * y
    res = stats.ttest_ind(x[y == 1], x[y == 0], equal_var=False)
    assert 0.001 < res.pvalue < 0.05  # this seed gives a moderately significant difference
    loose = welch_tests(pd.DataFrame({"x": x}), y, alpha=0.05).loc["x"]
    strict = welch_tests(pd.DataFrame({"x": x}), y, alpha=0.001).loc["x"]
    assert loose["significant"] and not strict["significant"]
    ci99 = res.confidence_interval(0.999)
    assert (strict["ci_low"], strict["ci_high"]) == pytest.approx((ci99.low, ci99.high))
    assert strict["ci_high"] - strict["ci_low"] > loose["ci_high"] - loose["ci_low"]


@pytest.mark.parametrize(
    ("features", "labels", "words"),
    [
        (pd.DataFrame({"x": [1.0, 2, 3, 4]}), [1, 0, 1], "3 labels for 4 posts"),
        (pd.DataFrame({"x": [1.0, 2, 3, 4]}), [1, 0, 2, 0], "must be 1"),
        (pd.DataFrame({"x": [1.0, 2, 3, 4]}), [1, 0, None, 0], "must be 1"),
        (pd.DataFrame({"x": [1.0, 2, 3, 4]}), [1, 0, 0, 0], "at least two"),
        (pd.DataFrame({"x": ["a", "b", "c", "d"]}), [1, 0, 1, 0], "must be a number"),
        (pd.DataFrame({"x": [1.0, np.nan, 3, 4]}), [1, 0, 1, 0], "missing or infinite.*x"),
    ],
)
def test_welch_refuses_bad_input_in_plain_words(
    features: pd.DataFrame, labels: list, words: str
) -> None:
    with pytest.raises(CorpusError, match=words):
        welch_tests(features, labels)


@pytest.mark.real_data
def test_welch_on_real_corpus_features(real_corpus_path: Path) -> None:
    df = pd.read_csv(real_corpus_path, usecols=["text", "stigma"])
    features = compute_features(df["text"])
    table = welch_tests(features, df["stigma"])
    assert table.index.tolist() == list(FEATURE_NAMES)
    assert (table["n_stigma"] + table["n_other"] == len(df)).all()
    by_class = features.groupby(df["stigma"]).mean()
    np.testing.assert_allclose(table["mean_stigma"], by_class.loc[1])
    np.testing.assert_allclose(table["diff"], by_class.loc[1] - by_class.loc[0])
    assert ((table["ci_low"] <= table["diff"]) & (table["diff"] <= table["ci_high"])).all()


@pytest.mark.real_data
def test_counts_match_plain_definitions_on_real_and_sample_posts(
    real_corpus_path: Path, sample_dir: Path
) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].dropna().tolist()
    for path in sorted(sample_dir.glob("*.csv")):
        texts += pd.read_csv(path, usecols=["text"])["text"].dropna().tolist()
    got = compute_features(texts)
    want = pd.DataFrame([_reference(t) for t in texts])
    for name in want.columns:
        assert got[name].tolist() == want[name].tolist(), name
    reference = [TextBlob(t).sentiment for t in texts[:2000]]
    assert got["sentiment"].tolist()[:2000] == [s.polarity for s in reference]
    assert got["subjectivity"].tolist()[:2000] == [s.subjectivity for s in reference]
