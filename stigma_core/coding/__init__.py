"""Service-user coding: projects, blind double coding, agreement, active learning.

``store`` keeps the work in a real database (SQLite by default, PostgreSQL via
``DATABASE_URL``); ``agreement`` measures how far raters agree; ``active`` chooses what to
code next and finds labels worth a second look; ``sampling`` draws the random coding sample
that honest prevalence rests on. Import the module you need (``from stigma_core.coding.store
import CodingStore``): ``sampling`` stays light, so the model-file code can use it without
loading the database layer.
"""
