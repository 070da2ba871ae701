"""The synthetic sample data: reproducible, coded like the paper, learnable but not trivially."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import py3langid
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_sample_data.py"
SAMPLE = REPO / "sample_data"
FILES = ("train.csv", "validation_batch_1.csv", "validation_batch_2.csv", "corpus.csv")


def _load_script():
    spec = importlib.util.spec_from_file_location("make_sample_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_script()


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE / name, keep_default_na=False, na_values={"rater_3": [""]})


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _read("train.csv")


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return _read("corpus.csv")


def test_script_regenerates_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    cmd = [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--seed", str(gen.DEFAULT_SEED)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_another_seed_gives_other_posts() -> None:
    assert not gen.generate(7).train["text"].equals(gen.generate(gen.DEFAULT_SEED).train["text"])


def test_sample_data_is_small_and_declared_synthetic() -> None:
    total = sum((SAMPLE / name).stat().st_size for name in FILES)
    assert total < 3_000_000
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "make_sample_data.py" in readme and "2022" in readme


def test_train_columns_and_size(train: pd.DataFrame) -> None:
    assert list(train.columns) == [
        "id", "text", "platform", "user_location", "created_at", "is_retweet", "lang",
        "rater_1", "rater_2", "rater_3", "label", "domain", "theme",
    ]
    assert len(train) == 800 and train["id"].is_unique
    assert set(train["lang"]) == {"en"}
    assert set(train["platform"]) == {"twitter", "reddit", "tiktok"}
    assert set(train["domain"]) <= set(gen.DOMAINS) and set(train["theme"]) <= set(gen.THEMES)
    assert pd.to_datetime(train["created_at"], format="ISO8601").notna().all()


def test_raters_agree_about_as_much_as_in_the_paper(train: pd.DataFrame) -> None:
    kappa = cohen_kappa_score(train["rater_1"], train["rater_2"])
    assert 0.65 <= kappa <= 0.85  # measured 0.767 at seed 2022


def test_stigma_share_in_band(train: pd.DataFrame) -> None:
    assert 0.35 <= train["label"].mean() <= 0.45  # measured 0.398


def test_resolver_codes_only_disagreements_and_decides_them(train: pd.DataFrame) -> None:
    disagree = train["rater_1"] != train["rater_2"]
    assert train["rater_3"].notna().equals(disagree)
    assert disagree.sum() >= 40
    agreed = train.loc[~disagree]
    assert (agreed["label"] == agreed["rater_1"]).all()
    resolved = train.loc[disagree]
    assert (resolved["label"] == resolved["rater_3"].astype(int)).all()
    for column in ("rater_1", "rater_2", "label"):
        assert set(train[column]) == {0, 1}


def test_tfidf_logistic_regression_auc_is_good_not_perfect(train: pd.DataFrame) -> None:
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(model, train["text"], train["label"], cv=folds, scoring="roc_auc")
    assert 0.78 <= auc.mean() <= 0.90  # measured 0.837 at seed 2022


@pytest.mark.parametrize("name", ["validation_batch_1.csv", "validation_batch_2.csv"])
def test_validation_batches_are_blind_and_unseen(name: str, train: pd.DataFrame) -> None:
    batch = _read(name)
    assert list(batch.columns) == ["id", "text", "rater_a", "rater_b", "rater_c"]
    assert len(batch) == 150 and batch["id"].is_unique
    assert not set(batch["text"]) & set(train["text"])
    for column in ("rater_a", "rater_b", "rater_c"):
        assert set(batch[column]) == {0, 1}
    assert 0.5 <= cohen_kappa_score(batch["rater_a"], batch["rater_b"]) <= 0.95


def test_validation_batches_do_not_overlap() -> None:
    first, second = _read("validation_batch_1.csv"), _read("validation_batch_2.csv")
    assert not set(first["text"]) & set(second["text"])


def test_corpus_has_the_promised_messy_parts(corpus: pd.DataFrame) -> None:
    assert list(corpus.columns) == [
        "id", "text", "platform", "user_location", "created_at", "is_retweet", "lang",
    ]
    assert 5500 <= len(corpus) <= 6500
    assert 3 <= (corpus["text"].str.strip() == "").sum() <= 20
    assert 3 <= corpus.duplicated().sum() <= 20
    retweets = corpus.loc[corpus["is_retweet"]]
    assert 0.05 <= len(retweets) / len(corpus) <= 0.2
    quoted = retweets["text"].str.extract(r"^RT @\w+: (.*)$", expand=False).dropna()
    assert len(quoted) >= 0.95 * len(retweets)
    assert quoted.isin(set(corpus.loc[~corpus["is_retweet"], "text"])).mean() > 0.95


def test_corpus_has_about_three_percent_non_english(corpus: pd.DataFrame) -> None:
    texts = [t for t in corpus["text"] if t.strip()]
    languages = pd.Series([py3langid.classify(t)[0] for t in texts])
    assert 0.02 <= (languages != "en").mean() <= 0.05
    assert {"es", "fr", "de"} <= set(languages)


def test_only_tweets_say_their_language_and_they_say_it_right(corpus: pd.DataFrame) -> None:
    assert (corpus["lang"] != "").eq(corpus["platform"] == "twitter").all()
    tweets = corpus[(corpus["lang"] != "") & (corpus["text"].str.split().str.len() >= 8)]
    detected = tweets["text"].map(lambda t: py3langid.classify(t)[0])
    assert (detected == tweets["lang"]).mean() > 0.97
    assert {"en", "es", "fr", "de"} <= set(tweets["lang"])


def test_corpus_locations_are_messy_profile_strings(corpus: pd.DataFrame) -> None:
    wanted = {"Liverpool, England", "London", "NYC", "Austin, Texas", "SF", "Toronto, ON",
              "Sydney, Australia", "Pune", "Mumbai, India", "Dublin", "Lagos, Nigeria",
              "Porto Alegre, RS, Brasil", "Österreich", "Cymru", "🇺🇸", "USA",
              "United Kingdom", "Worldwide", "the internet", "he/him", "", "in my head"}
    assert wanted <= set(corpus["user_location"])


def test_country_volumes_are_realistic(corpus: pd.DataFrame) -> None:
    countries = corpus["user_location"].map(gen.LOCATION_COUNTRY).dropna()
    counts = countries.value_counts()
    assert list(counts.index[:2]) == ["US", "GB"]
    assert len(counts) >= 15
    assert (counts < 30).sum() >= 3


def test_true_stigma_rate_differs_by_country() -> None:
    truth = gen.generate(gen.DEFAULT_SEED).corpus_truth
    rate = truth.groupby("country")["true_label"].mean()
    assert 0.33 <= rate["US"] <= 0.47
    assert rate["GB"] <= 0.15 and rate["CA"] <= 0.12
    assert 0.18 <= rate["IN"] <= 0.32
    assert rate["US"] > rate["IN"] > rate["AU"] > rate["CA"]
