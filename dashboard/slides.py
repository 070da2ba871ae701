"""Slide-ready figures: any dashboard chart as PNG or SVG in a presenter theme.

Through Plotly's own export (kaleido, which drives Debian's Chromium offline; world shapes
from static/), never a hand-written rasteriser. The presenter theme: large type, high
contrast on white, the Okabe-Ito colour-blind-safe palette for traces without their own
colours, 16:9 at 1600 x 900, and the chart's n and CI note as a caption under it.

``chart`` draws a figure with a "For slides" menu under it (PNG and SVG downloads); the
image is made only when a button is clicked (Streamlit calls the data function then), so
drawing a page costs nothing extra.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

STATIC = Path(__file__).resolve().parents[1] / "static"
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442",
             "#000000")
WIDTH, HEIGHT = 1600, 900
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
MARGIN = {"l": 110, "r": 60, "t": 110, "b": 150}
TITLE_X_PX = 40  # the title's and the caption's left edge


def slide_figure(figure: go.Figure, caption: str = "") -> go.Figure:
    """A copy of ``figure`` in the presenter theme, with ``caption`` written under it."""
    slide = go.Figure(figure)
    slide.update_layout(
        template="simple_white", width=WIDTH, height=HEIGHT, colorway=OKABE_ITO,
        font={"size": 24, "color": "#111111", "family": "Arial, Helvetica, sans-serif"},
        title={"font": {"size": 32}, "x": TITLE_X_PX / WIDTH, "xanchor": "left"},
        margin=MARGIN,
        legend={"font": {"size": 22}},
    )
    if caption:  # its baseline 24 px above the slide's bottom edge, in line with the title
        plot_w, plot_h = WIDTH - MARGIN["l"] - MARGIN["r"], HEIGHT - MARGIN["t"] - MARGIN["b"]
        slide.add_annotation(text=caption, xref="paper", yref="paper",
                             x=(TITLE_X_PX - MARGIN["l"]) / plot_w,
                             y=-(MARGIN["b"] - 24) / plot_h, xanchor="left", yanchor="bottom",
                             showarrow=False, font={"size": 20, "color": "#333333"},
                             align="left")
    return slide


def caption_for(figure: go.Figure) -> str:
    """The n and CI note of a chart, from its title ("(n = 1,234 posts)") and error bars."""
    title = figure.layout.title.text or ""
    found = re.search(r"\(?n = [\d,]+[^)]*\)?", title)
    parts = [found.group(0).strip("()")] if found else []
    if any(getattr(trace, "error_y", None) and trace.error_y.array is not None
           or getattr(trace, "error_x", None) and trace.error_x.array is not None
           for trace in figure.data):
        parts.append("bars show 95% confidence intervals")
    return "; ".join(parts)


@lru_cache(maxsize=32)
def _render(spec: str, fmt: str) -> bytes:
    pio.defaults.topojson = STATIC.as_uri() + "/"  # world shapes from static/, not a CDN
    return pio.to_image(pio.from_json(spec), format=fmt, width=WIDTH, height=HEIGHT)


def image_bytes(figure: go.Figure, fmt: str, caption: str | None = None) -> bytes:
    """The figure as a slide (PNG or SVG bytes), rendered by kaleido; cached per figure."""
    slide = slide_figure(figure, caption_for(figure) if caption is None else caption)
    return _render(slide.to_json(), fmt)


def chart(figure: go.Figure, *, key: str, caption: str | None = None, where: object = st,
          **kwargs: object) -> None:
    """``st.plotly_chart`` plus download buttons for the slide version, PNG and SVG."""
    where.plotly_chart(figure, key=key, **kwargs)
    with where.popover("For slides", icon=":material/download:"):
        for fmt in FORMATS:
            st.download_button(
                f"{fmt.upper()} for slides",
                data=lambda fmt=fmt: image_bytes(figure, fmt, caption),
                file_name=f"{key}.{fmt}", mime=FORMATS[fmt], key=f"{key}_{fmt}",
                on_click="ignore")
