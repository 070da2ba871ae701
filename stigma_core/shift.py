"""Is this corpus like the model's training data? Checked from the model file alone.

A model's error rates (TPR/FPR, measured out-of-fold on its training posts) correct the
flagged share only for posts like those it was trained on. A model trained on one kind of
text and applied to another gives a confident, wrong corrected share. This module checks how
alike the two are without the training texts, which the model file must never hold (model
files get shared).

At training time ``training_profile`` keeps, for up to 500 randomly chosen training posts,
numbers only: the ten engineered features, the share of the post's words the model knows,
and the post's out-of-fold probability. ``similarity`` computes the same numbers for up to
500 random corpus posts and asks a classifier (gradient-boosted trees, 5-fold cross-validated)
to tell the two sets apart. Its AUC reads like a distance: about 0.5 means it cannot tell
them apart (alike); near 1 means the corpus is another kind of text.

Verdict thresholds. AUC = Phi(d / sqrt 2) for two normal groups d standard deviations apart,
so AUC 0.65 is a medium difference (d ~ 0.55) and 0.8 a large one (d ~ 1.2). Below 0.65 the
corpus counts as "alike"; from 0.65 "somewhat different"; from 0.8 "very different". With
500 posts a side the AUC's standard error is about 0.02, so sampling noise alone does not
cross 0.65. The probability is one of the numbers, so a large shift in prevalence alone (which
the correction does handle) can also read "somewhat different": the check errs on the side
of asking for a coded sample.

Models trained on the app's synthetic sample posts are flagged apart (``is_synthetic_sample``):
their error rates say nothing about real text, however alike the numbers look.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from threadpoolctl import threadpool_limits

from stigma_core.coding.sampling import RATERS_PER_POST, coding_minutes
from stigma_core.features import FEATURE_NAMES, compute_features
from stigma_core.text import preprocess_many

if TYPE_CHECKING:
    from stigma_core.persist import ModelBundle

PROFILE_VERSION = 1
PROFILE_SIZE = 500
"""Most posts kept in a training profile, and compared from the corpus."""
KNOWN_WORDS = "known_word_share"
PROBABILITY = "probability"
PROFILE_COLUMNS: tuple[str, ...] = (*FEATURE_NAMES, KNOWN_WORDS, PROBABILITY)
ALIKE_BELOW = 0.65
"""Detector AUC below this: the corpus counts as alike (see the module docstring)."""
VERY_DIFFERENT_FROM = 0.8
"""Detector AUC from this on: the corpus counts as very different."""
MIN_POSTS = 30
"""Fewest corpus (and training-profile) posts the check needs."""
CV_FOLDS = 5
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_FILES = ("train.csv", "validation_batch_1.csv", "validation_batch_2.csv")
SAMPLE_SHARE = 0.5
"""A model counts as trained on the synthetic sample when at least this share of its
training posts are sample posts."""
SAMPLE_NAMES = ("sample ", "sample_data/", "sample_data\\")
"""How the dashboard and CLI name the sample in a card's ``data`` (``"sample train.csv"``)."""
RECOMMENDED_CODED = 200
"""Coded random posts advised for a prevalence interval that holds (about +-6 points)."""
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
VERDICTS = ("alike", "somewhat different", "very different", "unknown")
PLAIN_NAMES = {
    "sentiment": "sentiment",
    "subjectivity": "subjectivity",
    "length": "length",
    "punctuation_ratio": "punctuation",
    "uppercase_words": "words in capitals",
    "avg_word_length": "word length",
    "word_count": "number of words",
    "char_count": "number of characters",
    "hashtag_count": "hashtags",
    "numeric_count": "digits",
    KNOWN_WORDS: "share of words the model knows",
    PROBABILITY: "the model's scores",
}


@dataclass(frozen=True)
class Similarity:
    """How alike a corpus is to a model's training data.

    ``verdict``: "alike", "somewhat different", "very different" or "unknown" (no profile in
    the model file, or too few posts). ``auc`` with its 95% CI (DeLong): how well a classifier
    tells a corpus post from a training post, 0.5 = not at all. ``most_different``: the
    numbers that differ most, in plain words. ``synthetic_sample``: the model was trained on
    the app's synthetic sample. ``detail``: what was found, in words, when the corpus is not
    found alike ("" when it is). ``warning``: plain words when the model's error rates may
    not carry over to this corpus ("" when they may): the synthetic-sample caution and
    ``detail``.
    """

    verdict: str
    auc: float | None
    ci_low: float | None
    ci_high: float | None
    n_training: int
    n_corpus: int
    most_different: tuple[str, ...]
    synthetic_sample: bool
    detail: str
    warning: str

    @property
    def differs(self) -> bool:
        """True unless the corpus was checked and found alike."""
        return self.verdict != "alike"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {**asdict(self), "most_different": list(self.most_different)}


def _raters() -> str:
    """'two raters' (the number in words when small)."""
    return f"{NUMBER_WORDS.get(RATERS_PER_POST, RATERS_PER_POST)} raters"


def coding_advice(n_posts: int = RECOMMENDED_CODED) -> str:
    """The plain-words offer of a coded sample, with its cost in minutes computed."""
    return (f"Code {n_posts} random posts of this corpus (about {coding_minutes(n_posts)} "
            f"minutes for {_raters()}) for an interval that holds.")


# --- synthetic sample -----------------------------------------------------------------------


SYNTHETIC_FACT = ("This model was trained on the synthetic sample posts, not on real text; its "
                  "error rates say nothing about real posts.")


def synthetic_sample_warning(n_posts: int = RECOMMENDED_CODED) -> str:
    """What to say about a model trained on the app's synthetic sample posts."""
    return (
        f"{SYNTHETIC_FACT} Code a random sample of your corpus "
        f"({n_posts} posts take about {coding_minutes(n_posts)} minutes for {_raters()}) "
        "or train on your own coded posts."
    )


SYNTHETIC_MODEL_WARNING = ("This model was trained on the synthetic sample posts, not on real "
                           "text: use it to try the dashboard, not to measure real posts.")


def is_synthetic_sample(bundle: ModelBundle) -> bool:
    """True when the card says the model was trained on the app's synthetic sample posts:
    a ``synthetic_sample: true`` key, or a ``data`` name like ``"sample train.csv"``."""
    card = bundle.card or {}
    if card.get("synthetic_sample") is True:
        return True
    name = str(card.get("data") or "").strip().lower()
    return name.startswith(SAMPLE_NAMES)


@cache
def _sample_texts() -> frozenset[str]:
    """Texts of the synthetic sample's coded files (empty when the folder is not here)."""
    texts: set[str] = set()
    for name in SAMPLE_FILES:
        path = SAMPLE_DIR / name
        if path.is_file():
            texts.update(pd.read_csv(path, usecols=["text"])["text"].dropna().str.strip())
    return frozenset(texts)


def looks_like_sample(texts: Iterable[object]) -> bool:
    """True when at least half of ``texts`` are posts of the app's synthetic sample files.

    Why by content: a copy of ``sample_data/train.csv`` under another name is still the
    synthetic sample, and a user's own file may well be called ``train.csv``.
    """
    known = _sample_texts()
    values = [str(t).strip() for t in texts if isinstance(t, str)]
    if not known or not values:
        return False
    return sum(t in known for t in values) / len(values) >= SAMPLE_SHARE


# --- training profile -----------------------------------------------------------------------


def find_vectorizer(pipeline: Any) -> TfidfVectorizer | None:
    """The fitted TF-IDF step inside a Stigma Lens pipeline (None when it has none)."""
    if isinstance(pipeline, TfidfVectorizer):
        return pipeline
    if isinstance(pipeline, Pipeline):
        children = [step for _, step in pipeline.steps]
    elif isinstance(pipeline, ColumnTransformer):
        children = [step for _, step, _ in getattr(pipeline, "transformers_", [])]
    else:
        return None
    for child in children:
        found = find_vectorizer(child)
        if found is not None:
            return found
    return None


def _known_share(token_lists: list[list[str]], is_known: Any) -> np.ndarray:
    """Per post, the share of its tokens ``is_known(token)`` accepts (NaN with no tokens)."""
    shares = [np.mean([is_known(t) for t in tokens]) if tokens else np.nan
              for tokens in token_lists]
    return np.asarray(shares, dtype=float)


def training_profile(
    texts: Sequence[str],
    oof_proba: Sequence[float],
    *,
    seed: int = 0,
    max_posts: int = PROFILE_SIZE,
) -> dict[str, Any]:
    """Numbers (never text) about up to ``max_posts`` random training posts, for the card.

    Per post: the ten engineered features, the share of its preprocessed words that some
    OTHER training post also holds, and its out-of-fold probability. "Other" (leave one out)
    because the model's vocabulary was built from these very posts: counted against it, every
    training post would know all its own words, and any new corpus would look different. A
    word is in the vocabulary when any training post holds it (``min_df=1``), so "held by
    another training post" is what "known" means for a new post too. Likewise the
    out-of-fold probability is what the model gives a post it did not train on.
    """
    texts = [str(t) for t in texts]
    proba = np.asarray(oof_proba, dtype=float)
    if len(texts) != len(proba):
        raise ValueError("texts and out-of-fold probabilities differ in length")
    tokens = [p.split() for p in preprocess_many(texts)]
    document_frequency = Counter(t for post in tokens for t in set(post))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(texts), size=min(len(texts), max_posts), replace=False))
    chosen = [texts[i] for i in rows]
    values = compute_features(chosen).astype(float)
    values[KNOWN_WORDS] = _known_share([tokens[i] for i in rows],
                                       lambda t: document_frequency[t] >= 2)
    values[PROBABILITY] = proba[rows]
    return {
        "version": PROFILE_VERSION,
        "n_train": len(texts),
        "seed": seed,
        "note": "numbers per training post only (features, known-word share, out-of-fold "
                "probability); no text",
        "columns": {name: [None if np.isnan(v) else round(float(v), 6)
                           for v in values[name]] for name in PROFILE_COLUMNS},
    }


def profile_frame(profile: dict[str, Any]) -> pd.DataFrame:
    """A card's training profile as a float frame (missing values as NaN)."""
    columns = profile.get("columns") or {}
    return pd.DataFrame({name: pd.to_numeric(pd.Series(columns[name], dtype=object),
                                             errors="coerce").astype(float)
                         for name in PROFILE_COLUMNS if name in columns})


def corpus_profile(bundle: ModelBundle, texts: Sequence[str]) -> pd.DataFrame:
    """The profile's numbers for corpus posts: features, known-word share, model probability."""
    from stigma_core.scale import score_texts  # scale imports persist, which imports this

    values = compute_features(list(texts)).astype(float).reset_index(drop=True)
    vectorizer = find_vectorizer(bundle.pipeline)
    if vectorizer is not None:
        vocabulary = vectorizer.vocabulary_
        tokens = [p.split() for p in preprocess_many(texts)]
        values[KNOWN_WORDS] = _known_share(tokens, lambda t: t in vocabulary)
    values[PROBABILITY] = score_texts(bundle, texts)
    return values


# --- the check ------------------------------------------------------------------------------


def delong_auc(y: np.ndarray, score: np.ndarray, alpha: float = 0.05) -> Bunch:
    """AUC of ``score`` for 0/1 ``y`` with DeLong's normal-approximation CI (clipped to [0, 1]).

    DeLong et al. (1988): the AUC is the mean of each positive's "placement" among the
    negatives; its variance comes from the spread of those placements (and the negatives'
    among the positives). Ties count half.
    """
    from scipy.stats import norm

    pos, neg = np.sort(score[y == 1]), np.sort(score[y == 0])
    below = np.searchsorted(neg, pos, "left") + 0.5 * (
        np.searchsorted(neg, pos, "right") - np.searchsorted(neg, pos, "left"))
    above = len(pos) - np.searchsorted(pos, neg, "right") + 0.5 * (
        np.searchsorted(pos, neg, "right") - np.searchsorted(pos, neg, "left"))
    v10, v01 = below / len(neg), above / len(pos)
    auc = float(v10.mean())
    se = float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))
    z = norm.ppf(1 - alpha / 2)
    return Bunch(auc=auc, ci_low=max(0.0, auc - z * se), ci_high=min(1.0, auc + z * se), se=se)


def verdict_for(auc: float) -> str:
    """"alike", "somewhat different" or "very different" for a detector AUC."""
    if auc < ALIKE_BELOW:
        return "alike"
    return "very different" if auc >= VERY_DIFFERENT_FROM else "somewhat different"


def _most_different(frame: pd.DataFrame, y: np.ndarray, top: int = 3) -> tuple[str, ...]:
    """The ``top`` numbers that on their own best tell corpus from training posts."""
    distance = {}
    for name in frame.columns:
        values = frame[name].to_numpy(dtype=float)
        known = ~np.isnan(values)
        if known.sum() > 1 and np.unique(y[known]).size == 2:
            distance[name] = abs(delong_auc(y[known], values[known]).auc - 0.5)
    ranked = sorted(distance, key=lambda n: -distance[n])
    return tuple(PLAIN_NAMES.get(name, name) for name in ranked[:top] if distance[name] > 0.1)


def _difference_warning(verdict: str, auc: float, ci: tuple[float, float],
                        most: tuple[str, ...]) -> str:
    """The plain-words warning for a corpus that differs from the training data."""
    where = f"; they differ most in {', '.join(most)}" if most else ""
    return (
        f"This corpus is {verdict} from the model's training data (a classifier tells their "
        f"posts apart with AUC {auc:.2f}, 95% CI {ci[0]:.2f}-{ci[1]:.2f}, where 0.5 would "
        f"mean alike{where}), so the model's measured error rates may not hold here."
    )


def _unknown(reason: str, synthetic: bool, n_training: int = 0, n_corpus: int = 0) -> Similarity:
    """A Similarity that could not be measured, saying why."""
    parts = [synthetic_sample_warning()] if synthetic else []
    return Similarity("unknown", None, None, None, n_training, n_corpus, (), synthetic, reason,
                      " ".join([*parts, reason]))


def similarity(
    bundle: ModelBundle,
    texts: Iterable[object],
    *,
    seed: int = 0,
    max_posts: int = PROFILE_SIZE,
) -> Similarity:
    """How alike ``texts`` (a corpus) are to the posts ``bundle`` was trained on.

    Compares up to ``max_posts`` random (seeded) corpus posts with the training profile kept
    in the model card: a histogram gradient-boosting classifier, 5-fold cross-validated,
    tries to tell them apart; its out-of-fold AUC (DeLong 95% CI) gives the verdict. Model
    files saved before profiles existed give verdict "unknown" and a warning that the check
    cannot be made. ``warning`` is non-empty whenever the corpus is not found alike or the
    model was trained on the synthetic sample.
    """
    synthetic = is_synthetic_sample(bundle)
    profile = (bundle.card or {}).get("training_profile")
    if not profile or not profile.get("columns"):
        return _unknown(
            "This model file holds no training profile (it was saved by an older version of "
            "Stigma Lens), so whether this corpus is like its training data cannot be checked; "
            "its error rates may not hold here.", synthetic)
    training = profile_frame(profile)
    posts = _nonempty(texts)
    rng = np.random.default_rng(seed)
    if len(posts) > max_posts:
        posts = [posts[i] for i in np.sort(rng.choice(len(posts), max_posts, replace=False))]
    if min(len(posts), len(training)) < MIN_POSTS:
        return _unknown(
            f"Too few posts to check whether this corpus is like the model's training data "
            f"({len(posts)} corpus and {len(training)} training posts; {MIN_POSTS} of each "
            "needed); its error rates may not hold here.", synthetic, len(training), len(posts))
    corpus = corpus_profile(bundle, posts)[training.columns]
    frame = pd.concat([training, corpus], ignore_index=True)
    y = np.r_[np.zeros(len(training), int), np.ones(len(corpus), int)]
    detector = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    # One thread: on 1,000 rows OpenMP gains nothing, and beside other busy processes (test
    # workers, the dashboard's) its spinning threads made the check 50-100x slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        score = cross_val_predict(detector, frame, y, cv=folds, method="predict_proba")[:, 1]
    measured = delong_auc(y, score)
    verdict = verdict_for(measured.auc)
    most = _most_different(frame, y)
    detail = "" if verdict == "alike" else _difference_warning(
        verdict, measured.auc, (measured.ci_low, measured.ci_high), most)
    parts = [synthetic_sample_warning()] if synthetic else []
    warning = " ".join(filter(None, [*parts, detail]))
    return Similarity(verdict, measured.auc, measured.ci_low, measured.ci_high, len(training),
                      len(corpus), most, synthetic, detail, warning)


def _nonempty(texts: Iterable[object]) -> list[str]:
    """The posts that hold text, stripped."""
    values = pd.Series(list(texts), dtype=object).astype("string").str.strip()
    return values[values.notna() & (values != "")].astype(str).tolist()
