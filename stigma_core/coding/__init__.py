"""Service-user coding: projects, blind double coding, agreement, active learning.

``store`` keeps the work in a real database (SQLite by default, PostgreSQL via
``DATABASE_URL``); ``agreement`` measures how far raters agree; ``active`` chooses what to
code next and finds labels worth a second look; ``sampling`` draws the random coding sample
that honest prevalence rests on.
"""

from stigma_core.coding.store import (
    CODE_NAMES,
    DEFAULT_GUIDELINES,
    CodingStore,
    Item,
    ProjectInfo,
    database_url,
    settle,
)

__all__ = ["CODE_NAMES", "DEFAULT_GUIDELINES", "CodingStore", "Item", "ProjectInfo",
           "database_url", "settle"]
