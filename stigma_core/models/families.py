"""The model registry: each classifier family, its grids, and the pipeline it is built into.

The paper's eight classifier families (Jilka et al. 2022) plus logistic regression as a fast
reference, each with the paper's hyper-parameter grid and a small "fast" grid for the
dashboard and tests, and the stronger families (word and character n-grams, sentence
embeddings, their stacked ensemble, multilingual vectors). The paper's families all see the
same features: TF-IDF over the preprocessed text and the engineered features chosen on the
training split, standardised; the stronger ones build features of their own.

TF-IDF note: scikit-learn's ``TfidfVectorizer(smooth_idf=False)`` weighs a term by raw count
times ``ln(N / df) + 1`` and then scales each post's vector to unit length; the paper writes
``tf * log(N / df)``. The ``+ 1`` keeps terms that occur in every post from vanishing; the
ranking of terms within a post is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from stigma_core import embeddings, finetune, multilingual
from stigma_core.errors import ModelError
from stigma_core.features import EngineeredFeatures
from stigma_core.models.estimators import Densify, NgramEmbeddingStack
from stigma_core.text import TextPreprocessor

GRIDS = ("fast", "paper")


@dataclass(frozen=True)
class Family:
    """One kind of classifier: how to build it and which settings to search.

    Grids name parameters as the estimator's ``set_params`` does (``n_neighbors``, or
    ``estimator__C`` for the calibrated SVMs); :meth:`grid` prefixes them for the pipeline.
    """

    name: str
    label: str
    make_estimator: Callable[[int], BaseEstimator]
    paper_grid: dict[str, list] = field(default_factory=dict)
    fast_grid: dict[str, list] = field(default_factory=dict)
    make_features: Callable[[Sequence[str]], Any] | None = None
    """Builds the pipeline's ``features`` step from the chosen engineered features; None:
    the paper's (TF-IDF over preprocessed text plus those features)."""
    calibration: str = "none"
    """How its probabilities are calibrated on the out-of-fold scores by default
    (``sigmoid``, ``isotonic`` or ``none``: already calibrated, or the paper's as they were)."""
    requires: Callable[[], str | None] | None = None
    """None when the family can be used here, else why not (e.g. an optional extra missing)."""
    in_process: bool = False
    """Search it in this process: its features come from an in-process cache (embeddings)
    that worker processes would have to rebuild."""
    first_step: str = "reading the posts (once per distinct post)"
    """What the progress line says before an in-process family's first fit reports."""

    @property
    def unavailable(self) -> str | None:
        """Why this family cannot be trained on this machine, or None when it can."""
        return self.requires() if self.requires else None

    def grid(self, which: str) -> dict[str, list]:
        """The ``fast`` or ``paper`` grid with keys addressed to the pipeline's model step."""
        if which not in GRIDS:
            raise ModelError(f"Unknown grid '{which}': choose 'fast' or 'paper'.")
        chosen = self.fast_grid if which == "fast" else self.paper_grid
        return {f"model__{key}": list(values) for key, values in chosen.items()}


TREES = [10, 50, 100, 200]
DEPTHS = [10, 20, 30, 50, None]
SVM_C = {"estimator__C": [1, 10, 100, 1000]}
SVM_C_GAMMA = {**SVM_C, "estimator__gamma": [1e-3, 1e-4]}


def _svc(kernel: str) -> Callable[[int], CalibratedClassifierCV]:
    """A maker of SVCs with the given kernel whose scores are turned into probabilities.

    Platt scaling on 5-fold cross-validated scores, then one SVC fitted on all the data:
    what ``SVC(probability=True)`` did before scikit-learn 1.9 deprecated it in favour of
    exactly this. SVCs are deterministic, so the seed is unused.
    """
    return lambda seed: CalibratedClassifierCV(SVC(kernel=kernel), ensemble=False)


WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)
"""Tuned by participant-grouped CV on the real corpus (``bench/models.py``'s tuning table):
word 1-2-grams and character 2-5-grams within words, sublinear tf, terms in at least 2
posts. Wider ranges moved AUC by under 0.003."""


def ngram_features(feature_columns: Sequence[str] = ()) -> ColumnTransformer:
    """Word and character n-gram TF-IDF over the raw post (lower-cased), side by side.

    Character n-grams catch spelling variants, slang and word parts the word vocabulary
    misses ("crazy", "crazzy", "craziness"); the engineered features are not used (they added
    nothing once n-grams were in, under grouped CV).
    """
    words = TfidfVectorizer(ngram_range=WORD_NGRAMS, sublinear_tf=True, min_df=2,
                            lowercase=True, dtype=np.float32)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True,
                            min_df=2, lowercase=True, dtype=np.float32)
    return ColumnTransformer([("words", words, "text"), ("chars", chars, "text")])


def embedding_features(feature_columns: Sequence[str] = ()) -> ColumnTransformer:
    """all-MiniLM-L6-v2 sentence vectors of the raw post (see ``stigma_core.embeddings``)."""
    return ColumnTransformer([("embeddings", embeddings.SentenceEmbedder(), "text")])


def ngram_embedding_features(feature_columns: Sequence[str] = ()) -> ColumnTransformer:
    """N-gram TF-IDF and sentence vectors side by side, the vectors last (the stacked
    ensemble reads its two blocks from there)."""
    ngrams = ngram_features(feature_columns)
    return ColumnTransformer([*ngrams.transformers,
                              ("embeddings", embeddings.SentenceEmbedder(), "text")],
                             sparse_threshold=1.0)


def two_encoder_features(feature_columns: Sequence[str] = ()) -> ColumnTransformer:
    """N-gram TF-IDF, then all-MiniLM-L6-v2 and multilingual-e5-small vectors: the two
    encoders were trained on different text and miss different things, so the stack gains
    from reading both."""
    ngrams = ngram_features(feature_columns)
    return ColumnTransformer([*ngrams.transformers,
                              ("embeddings", embeddings.SentenceEmbedder(), "text"),
                              ("multilingual", multilingual.embedder(), "text")],
                             sparse_threshold=1.0)


def _both_encoders_unavailable() -> str | None:
    """Why the two-encoder stack cannot be trained here, or None."""
    return embeddings.unavailable_reason() or multilingual.unavailable_reason()


def _ngram_svm(seed: int) -> CalibratedClassifierCV:
    """A linear SVM on n-grams, Platt-scaled on 5-fold CV scores (one SVM kept). Seeded:
    liblinear's dual solver visits posts in a random order, so an unseeded SVM differs a
    little from run to run."""
    return CalibratedClassifierCV(LinearSVC(C=0.1, random_state=seed), ensemble=False)


def _naive_bayes(seed: int) -> Pipeline:
    """Gaussian naive Bayes behind a densifying step (the seed is unused: it is deterministic)."""
    return Pipeline([("dense", Densify()), ("nb", GaussianNB())])


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "random_forest",
            "Random forest (many decision trees voting)",
            lambda seed: RandomForestClassifier(random_state=seed, n_jobs=1),
            {"n_estimators": TREES, "max_depth": DEPTHS},
            {"n_estimators": [200], "max_depth": [None]},
        ),
        Family(
            "gradient_boosting",
            "Gradient boosting (trees that correct each other)",
            lambda seed: GradientBoostingClassifier(random_state=seed),
            {"n_estimators": TREES, "max_depth": DEPTHS},
            {"n_estimators": [100], "max_depth": [3]},
        ),
        Family(
            "knn",
            "Nearest neighbours (posts most like it)",
            lambda seed: KNeighborsClassifier(),
            {"n_neighbors": list(range(1, 26))},
            {"n_neighbors": [5, 15, 25]},
        ),
        Family(
            "naive_bayes",
            "Naive Bayes (word-by-word probabilities)",
            _naive_bayes,
            {"nb__var_smoothing": [float(v) for v in np.logspace(0, -9, 10)]},
            {"nb__var_smoothing": [1.0, 1e-2]},
        ),
        Family(
            "svm_rbf",
            "Support vector machine, RBF kernel",
            _svc("rbf"),
            SVM_C_GAMMA,
            {"estimator__C": [1, 10], "estimator__gamma": ["scale"]},
        ),
        Family(
            "svm_linear",
            "Support vector machine, linear kernel",
            _svc("linear"),
            SVM_C,
            {"estimator__C": [1]},
        ),
        Family(
            "svm_sigmoid",
            "Support vector machine, sigmoid kernel",
            _svc("sigmoid"),
            SVM_C_GAMMA,
            {"estimator__C": [1, 10], "estimator__gamma": ["scale"]},
        ),
        Family(
            "svm_poly",
            "Support vector machine, polynomial kernel",
            _svc("poly"),
            SVM_C_GAMMA,
            {"estimator__C": [1, 10], "estimator__gamma": ["scale"]},
        ),
        Family(
            "logistic_regression",
            "Logistic regression (fast reference)",
            lambda seed: LogisticRegression(solver="liblinear", random_state=seed),
            {"C": [0.01, 0.1, 1, 10, 100]},
            {"C": [1, 10]},
        ),
        Family(
            "ngrams_lr",
            "Word + character n-grams, logistic regression",
            lambda seed: LogisticRegression(C=1.0, max_iter=2000, random_state=seed),
            {"C": [0.25, 0.5, 1, 2, 4], "class_weight": [None, "balanced"]},
            {"C": [0.5, 1]},
            make_features=ngram_features,
            calibration="sigmoid",
        ),
        Family(
            "ngrams_svm",
            "Word + character n-grams, linear SVM (calibrated)",
            _ngram_svm,
            {"estimator__C": [0.03, 0.05, 0.1, 0.2, 0.5],
             "estimator__class_weight": [None, "balanced"]},
            {"estimator__C": [0.05, 0.1]},
            make_features=ngram_features,
        ),
        Family(
            "embeddings_lr",
            "Sentence embeddings (all-MiniLM-L6-v2), logistic regression",
            lambda seed: LogisticRegression(C=4.0, max_iter=2000, random_state=seed),
            {"C": [0.5, 1, 2, 4, 8, 16], "class_weight": [None, "balanced"]},
            {"C": [4]},
            make_features=embedding_features,
            calibration="sigmoid",
            requires=embeddings.unavailable_reason,
            in_process=True,
        ),
        Family(
            "stacked",
            "Stacked ensemble: n-gram SVM + sentence embeddings (calibrated)",
            lambda seed: NgramEmbeddingStack(random_state=seed, embedding_kernel="rbf"),
            {"ngram_C": [0.05, 0.1, 0.2], "embedding_C": [2, 4, 8]},
            {"ngram_C": [0.1]},
            make_features=ngram_embedding_features,
            requires=embeddings.unavailable_reason,
            in_process=True,
        ),
        Family(
            "stacked_two_encoders",
            "Stacked ensemble: n-gram SVM + two sentence encoders (slow to score)",
            lambda seed: NgramEmbeddingStack(random_state=seed, embedding_kernel="rbf",
                                             embedding_blocks=2),
            {"ngram_C": [0.05, 0.1, 0.2], "embedding_C": [2, 4, 8]},
            {"ngram_C": [0.1]},
            make_features=two_encoder_features,
            requires=_both_encoders_unavailable,
            in_process=True,
        ),
        Family(
            "finetuned_minilm",
            "Sentence encoder fine-tuned on your coded posts (all-MiniLM-L6-v2; most "
            "accurate, slow to train)",
            lambda seed: finetune.FineTunedClassifier(random_state=seed),
            {"epochs": [3]},
            {"epochs": [3]},
            make_features=finetune.text_column,
            calibration="sigmoid",
            requires=finetune.unavailable_reason,
            in_process=True,
            first_step="fine-tuning on the first cross-validation fold (minutes per fold)",
        ),
        Family(
            multilingual.FAMILY,
            multilingual.FAMILY_LABEL,
            lambda seed: LogisticRegression(C=16.0, max_iter=3000, random_state=seed),
            {"C": [1, 4, 16, 64, 256], "class_weight": [None, "balanced"]},
            {"C": [16]},
            make_features=multilingual.multilingual_features,
            calibration="sigmoid",
            requires=multilingual.unavailable_reason,
            in_process=True,
        ),
    )
}
PAPER_FAMILIES = ("random_forest", "gradient_boosting", "knn", "naive_bayes", "svm_rbf",
                  "svm_linear", "svm_sigmoid", "svm_poly")
"""The study's eight families (Jilka et al. 2022), with its grids."""
PAPER_SET = (*PAPER_FAMILIES, "logistic_regression")
"""What ``--grid paper`` trains when no families are named: the eight plus the fast
logistic-regression reference, as before the stronger families existed."""
RECOMMENDED = ("ngrams_svm", "embeddings_lr", "stacked")
"""The recommended set (best AUC and fewest false alarms at recall 0.9 under
participant-grouped CV on the real corpus, ``bench/models.py``), trained on the fast grid."""
RECOMMENDED_FALLBACK = ("ngrams_lr", "ngrams_svm")
"""Recommended when sentence embeddings are not installed."""
MOST_ACCURATE = "finetuned_minilm"
"""The family with the best AUC and fewest false alarms under grouped CV on the real corpus
(``bench/finetune.py``), left out of the recommended set because of what it costs."""
MOST_ACCURATE_COST = ("about half an hour to train on 3,000 coded posts, and about 100 posts a "
                      "second to score, on 2 cores")
"""``MOST_ACCURATE``'s price in plain words, as measured by ``bench/finetune.py``."""


def recommended_families() -> list[str]:
    """The recommended families usable here (the n-gram pair when embeddings are missing)."""
    usable = [name for name in RECOMMENDED if FAMILIES[name].unavailable is None]
    return usable if len(usable) == len(RECOMMENDED) else list(RECOMMENDED_FALLBACK)


def available_families() -> list[str]:
    """Every family that can be trained on this machine, in registry order."""
    return [name for name, f in FAMILIES.items() if f.unavailable is None]


def unavailable_families() -> dict[str, str]:
    """Families that cannot be trained here, each with the reason in plain words."""
    return {name: f.unavailable for name, f in FAMILIES.items() if f.unavailable}


MODEL_TYPES: tuple[str, ...] = (
    "numpy.float32",
    "sklearn.svm._classes.LinearSVC",
    "stigma_core.calibration.CalibratedModel",
    "stigma_core.calibration.ProbabilityCalibrator",
    "stigma_core.embeddings.SentenceEmbedder",
    "stigma_core.finetune.FineTunedClassifier",
    "stigma_core.models.NgramEmbeddingStack",
    "stigma_core.models.estimators.NgramEmbeddingStack",
)
"""Types the stronger families' fitted pipelines are made of, beyond the paper's: for the
model-file loader's list of trusted types. The stack under both paths: files written since
``stigma_core.models`` became a package name its module, older files the package."""


def _family(family: str | Family) -> Family:
    """The Family for a name (or the Family itself), or a plain-words error."""
    if isinstance(family, Family):
        return family
    if family not in FAMILIES:
        raise ModelError(f"Unknown model family '{family}'. Choose from: {', '.join(FAMILIES)}.")
    chosen = FAMILIES[family]
    if chosen.unavailable:
        raise ModelError(f"{chosen.label} cannot be trained here: {chosen.unavailable}")
    return chosen


def build_pipeline(family: str | Family, feature_columns: Sequence[str], seed: int = 0) -> Pipeline:
    """The full model: a DataFrame with a ``text`` column in, stigma probabilities out.

    Features are TF-IDF over the preprocessed text plus the chosen engineered features,
    standardised (none when ``feature_columns`` is empty). Tokens are taken exactly as the
    preprocessor leaves them (whitespace-separated), so one-letter words are kept. A family
    with features of its own (n-grams, sentence embeddings) builds them instead.
    """
    chosen = _family(family)
    if chosen.make_features is not None:
        return Pipeline([("features", chosen.make_features(feature_columns)),
                         ("model", chosen.make_estimator(seed))])
    text_branch = Pipeline(
        [
            ("prep", TextPreprocessor()),
            (
                "vec",
                TfidfVectorizer(
                    smooth_idf=False, sublinear_tf=False, min_df=1, token_pattern=r"\S+"
                ),
            ),
        ]
    )
    branches: list[tuple[str, Any, str]] = [("tfidf", text_branch, "text")]
    if feature_columns:
        engineered = Pipeline(
            [("calc", EngineeredFeatures(tuple(feature_columns))), ("scale", StandardScaler())]
        )
        branches.append(("engineered", engineered, "text"))
    return Pipeline(
        [
            ("features", ColumnTransformer(branches)),
            ("model", chosen.make_estimator(seed)),
        ]
    )

