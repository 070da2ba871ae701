"""The process-wide memos of preprocessing, sentiment and TF-IDF counting under threads.

The dashboard scores several sessions' posts in threads of one server process. Two threads
growing one memo at once once lost a post's separator ("post separator lost while
tokenising", the three-browsers test); every entry point now holds ``MEMO_LOCK``. Here many
threads, each on its own posts and starting from cleared memos, must get exactly what one
thread gets alone.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

from stigma_core import sentiment, text
from stigma_core.fastscore import count_matrix

THREADS = 6


def _work(posts: list[str], vectorizer: CountVectorizer) -> tuple:
    return (sentiment.sentiment_many(posts), text.preprocess_many(posts),
            count_matrix(vectorizer, posts).toarray())


def test_threads_scoring_at_once_get_what_one_thread_gets(sample_dir: Path) -> None:
    posts = pd.read_csv(sample_dir / "corpus.csv")["text"].fillna("").astype(str).tolist()
    shares = [posts[i::THREADS] for i in range(THREADS)]
    vectorizer = CountVectorizer(token_pattern=r"\S+").fit(posts)
    sentiment.clear_caches()
    text.clear_caches()
    alone = [_work(share, vectorizer) for share in shares]
    got: dict[int, tuple] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(i: int) -> None:
        try:
            start.wait()
            for _ in range(3):
                got[i] = _work(shares[i], vectorizer)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    sentiment.clear_caches()
    text.clear_caches()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for i in range(THREADS):
        np.testing.assert_array_equal(got[i][0], alone[i][0])
        assert got[i][1] == alone[i][1]
        np.testing.assert_array_equal(got[i][2], alone[i][2])
