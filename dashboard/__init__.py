"""The dashboard's UI helpers: session state, cached library calls, figure builders.

Pages import from here and from ``stigma_core``; nothing in ``stigma_core`` imports this.
"""
