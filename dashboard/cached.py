"""Cached wrappers around stigma_core: every heavy call a page makes goes through here.

Why: Streamlit reruns the page script on every click, so loading, feature computing,
training, scoring and drawing word clouds must be remembered (st.cache_data for values,
st.cache_resource for fitted models) or the dashboard would redo minutes of work per click.
Arguments named with a leading underscore are not hashed (models are keyed by an id instead).

Only ``stigma_core.io`` is imported up front: the other modules pull in scikit-learn,
statsmodels, pingouin and friends, so each is imported inside the functions that need it,
and the first page (Data) opens without paying for them (cold start under 5 s).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import state
from stigma_core import io

if TYPE_CHECKING:
    from stigma_core.coding.store import CodingStore
    from stigma_core.geo import ResolutionReport
    from stigma_core.models import TrainingRun
    from stigma_core.persist import ModelBundle

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_TRAIN = "train.csv"
SAMPLE_CORPUS = "corpus.csv"
SAMPLE_BATCHES = ("validation_batch_1.csv", "validation_batch_2.csv")
Progress = Callable[[float, str], None]
CLOUD_STOPWORDS = frozenset({"user", "url", "email", "rt", "amp"})


def _frame_digest(frame: pd.DataFrame) -> str:
    """A DataFrame's content hash, worked out once per frame object.

    Why: a page passes the same scored corpus to many cached functions in one run, and
    Streamlit hashes it again for each (45 ms for the 5,742-post sample; 0.3-0.5 s of a
    Prevalence or Insights rerun, py-spy). Remembered per object (weakly) with its shape and
    columns; the frames passed in are never changed in place (``assign`` makes new ones).
    """
    known = _DIGESTS.get(id(frame))
    shape = (frame.shape, tuple(map(str, frame.columns)), tuple(map(str, frame.dtypes)))
    if known is not None and known[0]() is frame and known[1] == shape:
        return known[2]
    try:
        values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): hash their text
        values = pd.util.hash_pandas_object(frame.astype(str), index=True).to_numpy()
    digest = hashlib.sha1(values.tobytes() + repr(shape).encode()).hexdigest()
    key = id(frame)
    _DIGESTS[key] = (weakref.ref(frame, lambda _, key=key: _DIGESTS.pop(key, None)), shape,
                     digest)
    return digest


_DIGESTS: dict[int, tuple[weakref.ref, tuple, str]] = {}
FRAME_HASH = {pd.DataFrame: _frame_digest}


@st.cache_data(show_spinner=False, persist="disk")
def _read_sample(filename: str, stamp: tuple[int, int]) -> pd.DataFrame:
    """Kept on disk (Streamlit's cache folder) between server starts, so only the very first
    start pays for the language check; ``stamp`` renews the entry when the file changes."""
    return io.load_corpus(SAMPLE_DIR / filename, name=filename)


def load_sample(filename: str) -> pd.DataFrame:
    """A sample file from sample_data/, read and mapped with the guessed columns."""
    info = (SAMPLE_DIR / filename).stat()
    return _read_sample(filename, (info.st_size, info.st_mtime_ns))


SAMPLE_FOR = {state.DATASET: (SAMPLE_TRAIN, state.DATASET_NAME),
              state.CORPUS: (SAMPLE_CORPUS, state.CORPUS_NAME)}


def open_sample(key: str) -> pd.DataFrame:
    """The training set (``state.DATASET``) or corpus (``state.CORPUS``) in use, opening the
    sample file for that role when nothing is loaded yet.

    The first page needs only the training set; the corpus (its language check takes about a
    second) opens when a page first needs it, which keeps the cold start short.
    """
    if state.get(key) is None:
        filename, name_key = SAMPLE_FOR[key]
        state.set_frame(key, name_key, load_sample(filename), f"sample {filename}")
    return state.get(key)


@st.cache_data(show_spinner=False, max_entries=8)
def read_upload(data: bytes, name: str) -> pd.DataFrame:
    """The raw table of an uploaded file (format from its name)."""
    return io.read_table(data, name=name)


@st.cache_data(show_spinner=False)
def read_sample_table(filename: str) -> pd.DataFrame:
    """A sample file's raw table, columns as written (for rater batches)."""
    return io.read_table(SAMPLE_DIR / filename)


@st.cache_data(show_spinner=False, max_entries=8)
def canonicalise(
    raw: pd.DataFrame, mapping: dict, language: str | None, drop_duplicates: bool
) -> pd.DataFrame:
    """The raw table in canonical columns; the load report is in ``attrs["load_report"]``."""
    frame, report = io.canonicalise(
        raw, io.ColumnMapping(**mapping), language=language, drop_duplicates=drop_duplicates
    )
    frame.attrs["load_report"] = report.as_dict()
    return frame


@st.cache_data(show_spinner=False, max_entries=4)
def feature_frame(texts: pd.Series) -> pd.DataFrame:
    """The ten engineered features of each post."""
    from stigma_core import features
    return features.compute_features(texts)


@st.cache_data(show_spinner=False, max_entries=4)
def feature_tests(dataset: pd.DataFrame) -> pd.DataFrame:
    """Welch t-tests of the ten features between labelled stigmatising and other posts."""
    from stigma_core import features
    labelled = dataset[dataset["label"].notna()]
    return features.welch_tests(feature_frame(labelled["text"]), labelled["label"])


def _progress_bar(text: str) -> tuple[DeltaGenerator, Progress]:
    """A progress bar and the callback that moves it.

    Created inside the cached functions below, so that a cache hit replays the bar's
    creation too (Streamlit cannot replay updates to an element made outside).
    """
    bar = st.progress(0.0, text=text)
    return bar, lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), message)


@st.cache_resource(show_spinner=False, max_entries=8)
def train(dataset: pd.DataFrame, families: tuple[str, ...], grid: str, seed: int
          ) -> TrainingRun:
    """Train and compare the chosen families with a progress bar that counts the fits and the
    time left ("Fit 37 of 540 — about 1 min 20 s left"; one shared, read-only run)."""
    from dashboard.progress import Countdown
    from stigma_core import models
    bar, _ = _progress_bar("Starting…")
    progress = Countdown().callback(bar.progress)
    run = models.train_models(dataset, list(families), grid=grid, seed=seed, progress=progress)
    bar.empty()
    return run


@st.cache_data(show_spinner=False, max_entries=4, hash_funcs=FRAME_HASH)
def score(model_id: str, corpus: pd.DataFrame, _bundle: ModelBundle) -> pd.DataFrame:
    """The corpus with stigma_probability, stigma_predicted, sentiment and subjectivity."""
    from stigma_core import features, scale
    bar, progress = _progress_bar("Scoring the posts…")
    scored = scale.score_frame(_bundle, corpus, progress=progress)
    bar.progress(1.0, "Measuring sentiment and subjectivity…")
    mood = features.compute_features(scored["text"], columns=("sentiment", "subjectivity"))
    bar.empty()
    return pd.concat([scored, mood], axis=1)


def scored_corpus(corpus: pd.DataFrame) -> pd.DataFrame:
    """The corpus scored by the model in use, countries resolved with the user's overrides."""
    scored = score(state.get(state.MODEL_ID), corpus, state.get(state.MODEL))
    if "location" in scored:
        located = countries(scored["location"], state.get(state.OVERRIDES, {}))
        scored = scored.assign(country=located)
    return scored


@st.cache_data(show_spinner=False, max_entries=8)
def countries(locations: pd.Series, overrides: dict) -> pd.Series:
    """ISO2 country per location, with the user's overrides applied."""
    from stigma_core import geo
    return geo.resolve_many(locations, overrides=overrides)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=FRAME_HASH)
def prevalence_table(scored: pd.DataFrame, by: str | None, rates: tuple | None, min_n: int,
                     distinct: bool = False) -> pd.DataFrame:
    """Raw and corrected prevalence by group (``rates`` = (tpr, fpr, n_pos, n_neg) or None);
    ``distinct`` counts each exact duplicate post once."""
    from stigma_core import prevalence
    error_rates = prevalence.ErrorRates(*rates) if rates else None
    return prevalence.prevalence_table(scored, by, error_rates=error_rates, min_n=min_n,
                                       exclude_duplicates=distinct)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def retweet_table(scored: pd.DataFrame, rates: tuple | None, min_n: int,
                  distinct: bool = False) -> pd.DataFrame:
    """Prevalence of all posts, without retweets, and of retweets only."""
    from stigma_core import prevalence
    error_rates = prevalence.ErrorRates(*rates) if rates else None
    return prevalence.retweet_comparison(scored, error_rates=error_rates, min_n=min_n,
                                         exclude_duplicates=distinct)


@st.cache_data(show_spinner=False, max_entries=8)
def resolution(locations: pd.Series, countries: pd.Series) -> ResolutionReport:
    """How many locations matched a country, and the commonest that did not."""
    from stigma_core import geo
    return geo.resolution_report(locations, countries)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def class_tests(scored: pd.DataFrame) -> pd.DataFrame:
    """Welch t-tests of sentiment and subjectivity between predicted classes."""
    from stigma_core import prevalence
    return prevalence.class_feature_tests(scored)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def anova(scored: pd.DataFrame, value: str, min_n: int) -> dict:
    """ANOVA (or Welch's) of ``value`` across the largest countries, with post-hoc tests."""
    from stigma_core import prevalence
    return prevalence.country_anova(scored, value, "country", min_n=min_n)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def blind_validation(scored: pd.DataFrame, raters: tuple[str, ...]) -> pd.DataFrame:
    """Kappa with bootstrap CIs: the model vs each rater, and each pair of raters."""
    from stigma_core import validation
    return validation.blind_validation(scored, list(raters))


@st.cache_data(show_spinner=False, max_entries=16)
def wordcloud_png(texts: pd.Series) -> bytes | None:
    """A word cloud (PNG) of the preprocessed posts; None when they hold no words.

    Handles, links and e-mails are masked first and their placeholders (and the retweet
    marker "rt") left out, so no account name can show up as a word.
    """
    from wordcloud import WordCloud

    from stigma_core import export, privacy, text

    masked = privacy.mask_series(texts.dropna().astype(str))
    words = " ".join(text.preprocess_many(masked))
    cloud = WordCloud(width=640, height=360, background_color="white", random_state=0,
                      collocations=False, max_words=120, stopwords=CLOUD_STOPWORDS)
    try:
        return export.png_bytes(cloud.generate(words).to_image())
    except ValueError:  # WordCloud's "We need at least 1 word to plot a word cloud"
        return None


def decided_bundle(
    run: TrainingRun, family: str, threshold: float, cost_ratio: int, decided_by: str,
    data_name: str | None,
) -> ModelBundle:
    """The model to keep, at the threshold the decision panel chose, with the choice recorded."""
    from stigma_core import persist
    card = {
        "data": data_name or "unnamed data",
        "threshold_rule": f"minimum cost when one missed post costs {cost_ratio} false alarms",
        "cost_ratio": cost_ratio,
        "decided_by": decided_by or "not recorded",
        "decided_on": date.today().isoformat(),
    }
    return persist.bundle_from_run(run, family, card_extra=card, threshold=threshold)


@st.cache_data(show_spinner=False, max_entries=4)
def model_bytes(model_id: str, _bundle: ModelBundle) -> bytes:
    """The model file (skops bytes) for the download button."""
    from stigma_core import persist
    return persist.to_bytes(_bundle)


@st.cache_data(show_spinner=False, max_entries=4)
def table_file(frame: pd.DataFrame, fmt: str) -> bytes:
    """The frame as a formula-safe CSV or a Parquet file, for a download button."""
    from stigma_core import export
    return export.table_bytes(frame, fmt)


def bundle_error_rates(bundle: ModelBundle) -> tuple | None:
    """The model's (tpr, fpr, n_pos, n_neg) from its card, for the corrected prevalence."""
    rates = (bundle.card or {}).get("error_rates")
    if not rates:
        return None
    return (float(rates["tpr"]), float(rates["fpr"]), int(rates["n_pos"]), int(rates["n_neg"]))


PLACES_WARM_DELAY_S = 8.0
"""Seconds after a server's first session starts before the place-name indexes are built in
the background: late enough that the first page is drawn, early enough that Validation's
fairness audit and Prevalence's countries rarely wait for them (3-4 s of CPU otherwise paid
on the first visit)."""


@st.cache_resource(show_spinner=False)
def prepare_places_later() -> threading.Timer:
    """Once per server process: build ``stigma_core.geo``'s indexes after
    ``PLACES_WARM_DELAY_S`` in a daemon thread (a page that needs them first waits on geo's
    build lock, no double work)."""
    from stigma_core import geo

    timer = threading.Timer(PLACES_WARM_DELAY_S, geo.prepare)
    timer.daemon = True
    timer.start()
    return timer


@st.cache_resource(show_spinner=False)
def coding_store(url: str) -> CodingStore:
    """The coding database (one connection pool per URL, shared by every browser session)."""
    from stigma_core.coding.store import CodingStore
    return CodingStore(url)


def current_coding_store() -> CodingStore:
    """The coding database the environment names (``DATABASE_URL`` or the SQLite file)."""
    from stigma_core.coding.store import database_url
    return coding_store(database_url())


@st.cache_data(show_spinner=False, max_entries=16)
def agreement_tables(codes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Pairwise Cohen's kappas, Fleiss' kappa and Krippendorff's alpha, and "can't tell" count."""
    from stigma_core.coding import agreement
    return (agreement.pairwise_kappa(codes), agreement.overall_agreement(codes),
            agreement.cant_tell_count(codes))


@st.cache_data(show_spinner=False, max_entries=16)
def scheme_agreement_table(codes: pd.DataFrame, schemes: tuple[str, ...]) -> pd.DataFrame:
    """Krippendorff's alpha with a bootstrap 95% CI per coding scheme (domain, theme)."""
    from stigma_core.coding import agreement
    return agreement.scheme_agreement(codes, tuple(schemes))


@st.cache_data(show_spinner=False, max_entries=8)
def learning_curve(texts: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """Cross-validated AUC against the number of coded posts."""
    from stigma_core.coding import active
    return active.learning_curve(texts, labels)


@st.cache_data(show_spinner=False, max_entries=8)
def suspect_labels(texts: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """Final labels a confident model disagrees with."""
    from stigma_core.coding import active
    return active.suspect_labels(texts, labels)


@st.cache_data(show_spinner=False, max_entries=8)
def suggestions(candidates: pd.Series, coded_texts: pd.Series, coded_labels: pd.Series,
                n: int) -> pd.DataFrame:
    """The next posts to code, by the quick model's uncertainty and diversity."""
    from stigma_core.coding import active
    return active.suggest_posts(candidates, coded_texts, coded_labels, n)


def coded_samples(corpus_texts: pd.Series) -> dict[str, pd.DataFrame]:
    """Coding projects holding settled, randomly drawn posts of this corpus: project name ->
    its coded random sample (``text``, ``label``). Read fresh on every run: raters may be
    coding at this moment."""
    store = current_coding_store()
    samples = {name: store.random_sample(name, corpus_texts) for name in store.projects()}
    return {name: sample for name, sample in samples.items() if len(sample)}


@st.cache_data(show_spinner="Comparing the corpus with the model's training data…",
               max_entries=8)
def similarity(model_id: str, texts: pd.Series, _bundle: ModelBundle) -> dict:
    """How alike the corpus is to the model's training posts (``shift.similarity``)."""
    from stigma_core import shift
    return shift.similarity(_bundle, texts).as_dict()


@st.cache_data(show_spinner="Estimating prevalence from the coded sample…", max_entries=8,
               hash_funcs=FRAME_HASH)
def coded_prevalence(model_id: str, scored: pd.DataFrame, coded: pd.DataFrame,
                     training: pd.DataFrame | None, by: str | None,
                     _bundle: ModelBundle) -> dict:
    """Prevalence from a coded random sample of the corpus (PPI, cross-fitted when the model
    trained on the coded posts), overall and by ``by``."""
    from stigma_core import crossfit
    labelled = None if training is None else training[training["label"].notna()]
    return crossfit.coded_sample_prevalence(
        _bundle, scored["text"], scored["stigma_predicted"], coded["text"], coded["label"],
        train_texts=None if labelled is None else labelled["text"],
        train_labels=None if labelled is None else labelled["label"].astype(int),
        groups=None if by is None else scored[by])


# --- Insights: domain and theme tags, their shares, segments (pages/insights.py, report) ----
# Session keys of the Insights page that the report reads too. They belong in
# dashboard/state.py with the others; kept here until that file is free to edit.


def insight_lexicon() -> dict:
    """The seed lexicon with the words added this session (``state.INSIGHT_TERMS``)."""
    from stigma_core import insights
    lexicon = {kind: {label: dict(terms) for label, terms in classes.items()}
               for kind, classes in insights.LEXICON.items()}
    for kind, classes in (state.get(state.INSIGHT_TERMS) or {}).items():
        for label, terms in classes.items():
            lexicon.setdefault(kind, {}).setdefault(label, {}).update(terms)
    return lexicon


def insight_taggers() -> dict | None:
    """The trained taggers in use (``state.INSIGHT_TAGGERS``), or None when the word lists are."""
    taggers = state.get(state.INSIGHT_TAGGERS)
    if not taggers or state.get(state.INSIGHT_SOURCE, "lexicon") != "trained":
        return None
    return taggers


@st.cache_data(show_spinner="Tagging domains and themes…", max_entries=8)
def insight_tags(texts: pd.Series, lexicon: dict, tagger_id: str | None,
                 _taggers: dict | None) -> pd.DataFrame:
    """``domain`` and ``theme`` per post: the trained taggers where there are any (keyed by
    ``tagger_id``), else the word lists ``lexicon``."""
    from stigma_core import insights
    taggers = _taggers or {}
    return insights.tag_frame(texts, lexicon=lexicon, domain_model=taggers.get("domain"),
                              theme_model=taggers.get("theme"))


def insight_posts(corpus: pd.DataFrame) -> pd.DataFrame:
    """The corpus as Insights reads it: scored (``stigma_predicted``) when a model is in use,
    countries resolved, and a ``domain`` and ``theme`` per post."""
    if state.get(state.MODEL) is not None:
        frame = scored_corpus(corpus)
    elif "location" in corpus:
        frame = corpus.assign(country=countries(corpus["location"],
                                                state.get(state.OVERRIDES, {})))
    else:
        frame = corpus
    taggers = insight_taggers()
    tags = insight_tags(frame["text"], insight_lexicon(),
                        taggers["id"] if taggers else None, taggers)
    return frame.assign(domain=tags["domain"].to_numpy(), theme=tags["theme"].to_numpy())


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=FRAME_HASH)
def insight_shares(posts: pd.DataFrame, column: str, by: str | None, min_n: int,
                   sort_groups: bool = False) -> pd.DataFrame:
    """Each class's share per group with Wilson 95% CIs (``insights.tag_shares``)."""
    from stigma_core import insights
    return insights.tag_shares(posts, column, by, min_n=min_n, sort_groups=sort_groups)


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=FRAME_HASH)
def insight_stigma_by_tag(posts: pd.DataFrame, column: str, min_n: int) -> pd.DataFrame:
    """The share flagged stigmatising within each domain or theme (Wilson 95% CIs)."""
    from stigma_core import insights
    return insights.stigma_by_tag(posts, column, min_n=min_n)


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=FRAME_HASH)
def insight_mix_test(posts: pd.DataFrame, column: str, by: str, min_n: int) -> dict:
    """Chi-square test of the ``column`` mix across ``by`` groups, as plain values."""
    from stigma_core import insights
    return insights.mix_test(posts, column, by, min_n=min_n).as_dict()


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def insight_comparison(posts: pd.DataFrame, by: str, min_n: int
                       ) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Groups side by side (prevalence, domain mix, theme mix) and one test of each."""
    from stigma_core import insights
    comparison = insights.compare_groups(posts, by, min_n=min_n)
    return comparison.table, {k: t.as_dict() for k, t in comparison.tests.items()}


@st.cache_data(show_spinner="Finding segments of posts that talk alike…", max_entries=4)
def insight_segments(texts: pd.Series) -> object:
    """Segments of the posts (TF-IDF, LSA, k-means with k by silhouette; seeded)."""
    from stigma_core import segments
    return segments.find_segments(texts)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def insight_segment_profile(posts: pd.DataFrame, labels: object, min_n: int) -> pd.DataFrame:
    """Each segment's stigma share (when scored) and where it is over-represented."""
    from stigma_core import segments
    return segments.segment_profile(posts, labels, min_n=min_n)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=FRAME_HASH)
def insight_action_gap(posts: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Actionable vs awareness (and help-seeking) content per domain, with CIs."""
    from stigma_core import insights
    return insights.action_gap(posts, min_n=min_n)


@st.cache_data(show_spinner=False, max_entries=8)
def insight_help_questions(texts: pd.Series, lexicon: dict) -> pd.DataFrame:
    """The help-seeking posts' questions grouped by topic, with masked examples."""
    from stigma_core import insights
    return insights.help_questions(texts, lexicon=lexicon.get("help_topic"))


@st.cache_resource(show_spinner="Training the tagger on the coded posts…", max_entries=8)
def train_insight_tagger(texts: pd.Series, labels: pd.Series, kind: str) -> object:
    """A TF-IDF + logistic regression tagger for ``kind`` with its cross-validated report."""
    from stigma_core import insights
    return insights.train_tagger(texts, labels, kind)


@st.cache_data(show_spinner=False, max_entries=4)
def insight_exemplars(texts: pd.Series, _segmentation: object, key: tuple) -> dict:
    """The posts nearest each segment's centre, masked (``key`` identifies the segmentation)."""
    from stigma_core.segments import exemplars
    return exemplars(texts, _segmentation, n=3)
