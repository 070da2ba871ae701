"""Named errors that the user sees.

Every problem with input the user supplied (a corpus file, a column mapping, a model file)
is raised as one of these, with a message a non-programmer can act on: what went wrong,
where, and how to fix it. The dashboard and the CLI show the message and nothing else.
"""


class CorpusError(ValueError):
    """A corpus could not be loaded or mapped (bad file, missing column, bad labels...)."""


class ModelError(ValueError):
    """A model file could not be trained, saved or loaded as asked."""


class CodingError(ValueError):
    """A coding-project request could not be carried out (unknown rater, bad code, no posts...)."""
