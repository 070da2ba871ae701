"""Stigma Lens core library: load corpora, detect mental-health stigma, measure prevalence.

The library never imports Streamlit; the dashboard in ``app.py``/``pages/`` calls into it.
"""

from stigma_core.errors import CorpusError, ModelError

__all__ = ["CorpusError", "ModelError"]
__version__ = "0.1.0"
