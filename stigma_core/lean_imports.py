"""Keep optional heavy libraries out of a process that only needs a package's index.

Importing ``skops.io`` builds its list of trusted types from ``sklearn.utils.all_estimators``,
which walks every scikit-learn package with ``pkgutil.walk_packages``. The walk imports each
package to look inside it, including scikit-learn's vendored array-API shims for torch
(``sklearn.externals.array_api_compat.torch``), and that shim imports torch: about 190 MB of
resident memory and seconds of start-up in a process that reads a model file and never
touches torch (e.g. the main process of a scoring stream). ``all_estimators`` itself skips
``externals``, so only the walk's look inside needs the shim.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

SKLEARN_TORCH_SHIMS = "sklearn.externals."
"""Prefix of the vendored packages whose ``torch`` subpackage imports torch."""


class _SkipTorchShims(importlib.abc.MetaPathFinder):
    """Refuses (ImportError) scikit-learn's vendored ``…torch`` shim packages."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname.startswith(SKLEARN_TORCH_SHIMS) and fullname.rsplit(".", 1)[-1] == "torch":
            raise ImportError(f"{fullname} is not imported while indexing scikit-learn")
        return None


@contextmanager
def skipping_sklearn_torch_shims() -> Iterator[None]:
    """Within the block, importing scikit-learn's torch shims fails (``walk_packages``
    ignores such failures); after it they import as usual. Torch is not imported unless
    something else imports it; nothing changes when it already is."""
    finder = _SkipTorchShims()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
