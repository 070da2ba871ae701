"""SVM kernel matrices with libsvm's own arithmetic, so precomputed kernels give the same SVMs.

An SVC on a precomputed kernel matrix solves exactly the problem the SVC with that kernel
solves, provided every kernel value is the same double: libsvm's solver reads kernel values
through one function either way. Grid searches over ``C`` can then compute each kernel once
per fold (and gamma) instead of once per fit, and libsvm skips its own sparse kernel work.

The values here are computed the way scikit-learn's bundled libsvm computes them for sparse
input (``svm.cpp``): dot products as one left-to-right sum over the indices both rows hold
(sorted CSR rows), ``x_square`` as each row's own dot product, and

- training (``Kernel::kernel_*``): linear ``dot``; poly ``powi(gamma*dot + coef0, degree)``;
  rbf ``exp(-gamma*(x_square[i] + x_square[j] - 2*dot))``; sigmoid ``tanh(gamma*dot + coef0)``;
- prediction (``Kernel::k_function``): the same, except rbf, which sums the squared
  differences over the merged indices and returns ``exp(-gamma*sum)``.

The two rbf formulas round differently, hence two matrices for rbf. ``exp`` and ``tanh`` are
the C library's (numba calls libm, as libsvm does); there is no fused multiply-add on either
side. Tests compare whole SVMs fitted both ways bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import sparse

KERNELS = ("linear", "poly", "rbf", "sigmoid")
_CODES = {name: i for i, name in enumerate(KERNELS)}


@njit(cache=True)
def _dot(indptr, indices, data, a, b):  # pragma: no cover - compiled
    """libsvm's sparse ``dot``: the sum over shared indices, in index order."""
    i, end_i = indptr[a], indptr[a + 1]
    j, end_j = indptr[b], indptr[b + 1]
    total = 0.0
    while i < end_i and j < end_j:
        if indices[i] == indices[j]:
            total += data[i] * data[j]
            i += 1
            j += 1
        elif indices[i] > indices[j]:
            j += 1
        else:
            i += 1
    return total


@njit(cache=True)
def _dot2(ip_a, ix_a, d_a, a, ip_b, ix_b, d_b, b):  # pragma: no cover - compiled
    """``_dot`` between a row of one matrix and a row of another."""
    i, end_i = ip_a[a], ip_a[a + 1]
    j, end_j = ip_b[b], ip_b[b + 1]
    total = 0.0
    while i < end_i and j < end_j:
        if ix_a[i] == ix_b[j]:
            total += d_a[i] * d_b[j]
            i += 1
            j += 1
        elif ix_a[i] > ix_b[j]:
            j += 1
        else:
            i += 1
    return total


@njit(cache=True)
def _squared_distance(ip_a, ix_a, d_a, a, ip_b, ix_b, d_b, b):  # pragma: no cover
    """``k_function``'s rbf sum: squared differences over the merged indices, then the
    leftovers of each row, in that order."""
    i, end_i = ip_a[a], ip_a[a + 1]
    j, end_j = ip_b[b], ip_b[b + 1]
    total = 0.0
    while i < end_i and j < end_j:
        if ix_a[i] == ix_b[j]:
            d = d_a[i] - d_b[j]
            total += d * d
            i += 1
            j += 1
        elif ix_a[i] > ix_b[j]:
            total += d_b[j] * d_b[j]
            j += 1
        else:
            total += d_a[i] * d_a[i]
            i += 1
    while i < end_i:
        total += d_a[i] * d_a[i]
        i += 1
    while j < end_j:
        total += d_b[j] * d_b[j]
        j += 1
    return total


@njit(cache=True)
def _powi(base, times):  # pragma: no cover - compiled
    """libsvm's ``powi``: exponentiation by squaring, in its order."""
    tmp = base
    ret = 1.0
    t = times
    while t > 0:
        if t % 2 == 1:
            ret *= tmp
        tmp = tmp * tmp
        t //= 2
    return ret


@njit(cache=True)
def _from_dot(kind, dot, gamma, coef0, degree):  # pragma: no cover - compiled
    """The kernels that are functions of the dot product (all but rbf)."""
    if kind == 0:
        return dot
    if kind == 1:
        return _powi(gamma * dot + coef0, degree)
    return math.tanh(gamma * dot + coef0)


@njit(cache=True)
def _train_matrix(ip, ix, d, kind, gamma, coef0, degree):  # pragma: no cover - compiled
    n = ip.shape[0] - 1
    out = np.empty((n, n))
    square = np.empty(n)
    for a in range(n):
        square[a] = _dot(ip, ix, d, a, a)
    for a in range(n):
        for b in range(a, n):
            dot = _dot(ip, ix, d, a, b)
            if kind == 2:
                value = math.exp(-gamma * (square[a] + square[b] - 2 * dot))
            else:
                value = _from_dot(kind, dot, gamma, coef0, degree)
            out[a, b] = value
            # libsvm computes (b, a) with the rows swapped: every formula here is symmetric
            # operation by operation (commutative + and *), so it is the same double
            out[b, a] = value
    return out


@njit(cache=True)
def _predict_matrix(ip_a, ix_a, d_a, ip_b, ix_b, d_b, kind, gamma, coef0,
                    degree):  # pragma: no cover - compiled
    n, m = ip_a.shape[0] - 1, ip_b.shape[0] - 1
    out = np.empty((n, m))
    for a in range(n):
        for b in range(m):
            if kind == 2:
                total = _squared_distance(ip_a, ix_a, d_a, a, ip_b, ix_b, d_b, b)
                out[a, b] = math.exp(-gamma * total)
            else:
                dot = _dot2(ip_a, ix_a, d_a, a, ip_b, ix_b, d_b, b)
                out[a, b] = _from_dot(kind, dot, gamma, coef0, degree)
    return out


def _csr(X: object) -> sparse.csr_matrix:
    """``X`` as libsvm's sparse path sees it: CSR, float64, indices sorted (a copy)."""
    matrix = sparse.csr_matrix(X, dtype=np.float64, copy=True)
    matrix.sort_indices()
    return matrix


def _arrays(matrix: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64),
            np.ascontiguousarray(matrix.data))


def training_kernel(X: object, kernel: str, gamma: float = 0.0, coef0: float = 0.0,
                    degree: int = 3) -> np.ndarray:
    """The (n, n) kernel matrix libsvm builds while training on the rows of sparse ``X``."""
    if kernel not in _CODES:
        raise ValueError(f"kernel must be one of {KERNELS}, not {kernel!r}")
    arrays = _arrays(_csr(X))
    return _train_matrix(*arrays, _CODES[kernel], float(gamma), float(coef0), int(degree))


def prediction_kernel(X: object, support: object, kernel: str, gamma: float = 0.0,
                      coef0: float = 0.0, degree: int = 3) -> np.ndarray:
    """The (n, m) kernel values libsvm uses to predict the rows of ``X`` from the rows of
    ``support`` (the training rows), both sparse."""
    if kernel not in _CODES:
        raise ValueError(f"kernel must be one of {KERNELS}, not {kernel!r}")
    return _predict_matrix(*_arrays(_csr(X)), *_arrays(_csr(support)), _CODES[kernel],
                           float(gamma), float(coef0), int(degree))
