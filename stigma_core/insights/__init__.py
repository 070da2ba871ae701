"""Which kind of stigma, where, and what to do: domain and theme tags, their shares and tests.

Two axes a campaign can act on (after the Quilt.AI study of mental-health stigma on Reddit and
TikTok):

* **domain** — where the stigma (or the talk about mental health) sits: ``self`` (internalised
  shame, one's own condition: "I feel weak for needing meds"), ``community`` (family, friends,
  peers, faith groups, society at large, slurs aimed at others), ``professional`` (workplace,
  employers, HR, clinicians, treatment and care settings, research), or ``none`` (nothing about
  mental health: "this weather is crazy").
* **theme** — what the post does: ``awareness`` (stigma exists and must be broken),
  ``actionable`` (concrete steps, calls to act — for good or ill), ``help_seeking`` (asking how
  to get help, which service, any advice), ``personal_story`` (first-person narrative),
  ``other``.

Tagging needs no coded posts: a transparent **seed lexicon** (``LEXICON``, one plain dict a
user can read and edit) gives each class weighted words and phrases. Once people have coded
some posts by domain or theme, a trained tagger can be used instead.

One module per concept; ``stigma_core.insights`` re-exports the public names below:

- ``lexicon``: the kinds and classes, their display names and tie-break order, and ``LEXICON``.
- ``tagger``: the lexicon tagger (``tokenize``, ``tag``, ``tag_domains``, ``tag_themes``) and
  why a post got its tag (``explain``); ``check_lexicon``.
- ``editing``: editing the word lists (``add_terms``, ``lexicon_table``,
  ``lexicon_from_table``).
- ``trained``: taggers trained on coded posts (``normalise_tags``, ``train_tagger``,
  ``tag_with``) and ``tag_frame`` (both kinds, trained or from the word lists).
- ``breakdowns``: each row's group (``group_keys``) and what posts can be broken down by
  (``breakdown_options``, ``with_breakdown``, ``period_labels``).
- ``shares``: each class's share with Wilson 95% CIs (``tag_shares``, ``stigma_by_tag``).
- ``comparison``: chi-square tests in plain words (``mix_test``), groups side by side
  (``compare_groups``).
- ``actions``: what to do (``action_gap``, ``gap_sentences``, ``help_questions``).

Nothing here infers gender, age or any other trait of a person from text or names: breakdowns
use only columns the user supplied.
"""

from stigma_core.insights.actions import action_gap, gap_sentences, gap_words, help_questions
from stigma_core.insights.breakdowns import (
    ALL,
    MISSING_GROUP,
    PERIODS,
    breakdown_options,
    group_keys,
    period_labels,
    with_breakdown,
)
from stigma_core.insights.comparison import (
    Comparison,
    MixTest,
    compare_groups,
    effect_words,
    mix_test,
)
from stigma_core.insights.editing import add_terms, lexicon_from_table, lexicon_table
from stigma_core.insights.lexicon import (
    CLASS_NAMES,
    CLASSES,
    DOMAINS,
    FALLBACK,
    KINDS,
    LEXICON,
    MIN_SCORE,
    NEGATION_APPLIES,
    NEGATION_WINDOW,
    NEGATORS,
    PRIORITY,
    THEMES,
)
from stigma_core.insights.shares import DEFAULT_MIN_N, stigma_by_tag, stigma_labels, tag_shares
from stigma_core.insights.tagger import (
    Explanation,
    Hit,
    check_lexicon,
    explain,
    explain_domain,
    explain_theme,
    tag,
    tag_domains,
    tag_themes,
    tokenize,
)
from stigma_core.insights.trained import (
    TaggerReport,
    normalise_tags,
    tag_frame,
    tag_with,
    train_tagger,
)

__all__ = [
    "ALL",
    "CLASSES",
    "CLASS_NAMES",
    "Comparison",
    "DEFAULT_MIN_N",
    "DOMAINS",
    "Explanation",
    "FALLBACK",
    "Hit",
    "KINDS",
    "LEXICON",
    "MIN_SCORE",
    "MISSING_GROUP",
    "MixTest",
    "NEGATION_APPLIES",
    "NEGATION_WINDOW",
    "NEGATORS",
    "PERIODS",
    "PRIORITY",
    "THEMES",
    "TaggerReport",
    "action_gap",
    "add_terms",
    "breakdown_options",
    "check_lexicon",
    "compare_groups",
    "effect_words",
    "explain",
    "explain_domain",
    "explain_theme",
    "gap_sentences",
    "gap_words",
    "group_keys",
    "help_questions",
    "lexicon_from_table",
    "lexicon_table",
    "mix_test",
    "normalise_tags",
    "period_labels",
    "stigma_by_tag",
    "stigma_labels",
    "tag",
    "tag_domains",
    "tag_frame",
    "tag_shares",
    "tag_themes",
    "tag_with",
    "tokenize",
    "train_tagger",
    "with_breakdown",
]
