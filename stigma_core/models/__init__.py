"""Model families, the training run, and the rule that picks the model to keep.

One module per concept; ``stigma_core.models`` re-exports the public names below:

- ``families``: the model registry: ``Family``, ``FAMILIES`` and their grids, the feature
  builders (``ngram_features``, ``embedding_features``, ``ngram_embedding_features``),
  ``build_pipeline``, the paper's and the recommended sets and which families this machine
  can train (``available_families``, ``unavailable_families``, ``recommended_families``),
  ``MODEL_TYPES`` for the model-file loader.
- ``estimators``: the estimators of our own that pipelines are made of (``Densify``,
  ``NgramEmbeddingStack``); their instances are saved inside model files.
- ``training``: training and comparing families (``train_models``, ``best_params``), their
  results (``ModelResult``, ``TrainingRun``) and the choice rule (``CHOICE_RULE``).
"""

from stigma_core.models.estimators import Densify, NgramEmbeddingStack
from stigma_core.models.families import (
    CHAR_NGRAMS,
    DEPTHS,
    FAMILIES,
    GRIDS,
    MODEL_TYPES,
    MOST_ACCURATE,
    MOST_ACCURATE_COST,
    PAPER_FAMILIES,
    PAPER_SET,
    RECOMMENDED,
    RECOMMENDED_FALLBACK,
    SVM_C,
    SVM_C_GAMMA,
    TREES,
    WORD_NGRAMS,
    Family,
    available_families,
    build_pipeline,
    embedding_features,
    ngram_embedding_features,
    ngram_features,
    recommended_families,
    unavailable_families,
)
from stigma_core.models.training import (
    CHOICE_RULE,
    MIN_TEST_CLASS,
    ModelResult,
    Progress,
    TrainingRun,
    best_params,
    train_models,
)

__all__ = [
    "CHAR_NGRAMS",
    "CHOICE_RULE",
    "DEPTHS",
    "FAMILIES",
    "GRIDS",
    "MIN_TEST_CLASS",
    "MODEL_TYPES",
    "PAPER_FAMILIES",
    "PAPER_SET",
    "RECOMMENDED",
    "MOST_ACCURATE",
    "MOST_ACCURATE_COST",
    "RECOMMENDED_FALLBACK",
    "SVM_C",
    "SVM_C_GAMMA",
    "TREES",
    "WORD_NGRAMS",
    "Densify",
    "Family",
    "ModelResult",
    "NgramEmbeddingStack",
    "Progress",
    "TrainingRun",
    "available_families",
    "best_params",
    "build_pipeline",
    "embedding_features",
    "ngram_embedding_features",
    "ngram_features",
    "recommended_families",
    "train_models",
    "unavailable_families",
]
