"""``python -m stigma_core``: the command line (see :mod:`stigma_core.cli`)."""

from stigma_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
