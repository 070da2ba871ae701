"""The pydeck map's offline base layer: country shapes decoded from static/'s TopoJSON."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard import charts  # noqa: E402


def test_every_country_is_drawn_and_none_wraps_around_the_world() -> None:
    polygons = charts.country_outlines()
    assert len(polygons) > 150  # 176 countries at 110m (Antarctica left out), islands extra
    spans = [np.ptp(np.asarray(p["polygon"])[:, 0]) for p in polygons]
    assert max(spans) < 180  # rings across the 180th meridian are unwrapped, not a band


def test_column_map_layers_and_labels() -> None:
    import pandas as pd
    countries = pd.DataFrame({"lat": [54.0, 39.0], "lon": [-2.0, -98.0], "estimate": [0.31, None],
                              "too_few": [False, True], "hover": ["UK", "US"],
                              "name": ["United Kingdom", "United States"], "n": [80, 12]})
    deck = charts.column_map(countries)
    kinds = [layer.type for layer in deck.layers]
    assert kinds == ["PolygonLayer", "ColumnLayer", "TextLayer"]
    labels = [row["label"] for row in deck.layers[2].data]
    assert labels == ["United Kingdom 31%", ""]  # too few posts: no share shown
    assert deck.map_style is None  # no base-map style fetched from the internet


def test_prevalence_charts_say_which_estimate_they_show() -> None:
    """A chart of raw shares under a corrected headline is labelled as raw (found by a user
    walk: the headline said 41% corrected, the charts showed 95% flagged, both titled alike)."""
    def table(trust: list[str]) -> pd.DataFrame:
        n = len(trust)
        return pd.DataFrame({
            "group": [f"g{i}" for i in range(n)], "n": [100] * n, "too_few": [False] * n,
            "raw": [0.9] * n, "raw_ci_low": [0.85] * n, "raw_ci_high": [0.95] * n,
            "corrected": [0.4] * n, "corrected_ci_low": [0.1] * n,
            "corrected_ci_high": [0.6] * n, "trust": trust})

    raw = charts.share_bars(table(["raw", "raw"]), "By platform", "Platform")
    assert "not corrected" in raw.layout.title.text
    assert list(raw.data[0].y) == [90.0, 90.0]
    corrected = charts.share_bars(table(["corrected"]), "By platform", "Platform")
    assert "corrected for the model's errors" in corrected.layout.title.text
    assert list(corrected.data[0].y) == [40.0]
    assert "see the table" in charts.estimate_label(table(["raw", "corrected"]))


def test_column_labels_that_would_overlap_are_left_out_biggest_first() -> None:
    # the sample's crowded corner: three countries side by side in north-west Europe, and
    # two far apart
    countries = pd.DataFrame({
        "name": ["United Kingdom", "Ireland", "Germany", "India", "Australia"],
        "lat": [54.0, 53.2, 51.2, 22.0, -25.0], "lon": [-2.0, -8.0, 10.4, 79.0, 134.0],
        "estimate": [0.94, 0.95, 0.97, 0.97, 0.94], "too_few": [False] * 5,
        "n": [900, 60, 120, 700, 300], "hover": [""] * 5})
    deck = charts.column_map(countries)
    labels = {row["label"] for row in deck.layers[2].data} - {""}
    assert labels == {"United Kingdom 94%", "India 97%", "Australia 94%"}
    assert charts.unlabelled_countries(countries) == ["Ireland", "Germany"]
    # alone, Germany's label fits
    alone = countries[countries["name"].isin(["Germany", "India"])]
    assert charts.unlabelled_countries(alone) == []


def test_column_map_colour_key_spans_zero_to_the_highest_share() -> None:
    countries = pd.DataFrame({"estimate": [0.42, 0.1, 0.9], "too_few": [False, False, True]})
    key = charts.column_legend_html(countries)
    assert "0% <span" in key and "42% stigmatising" in key  # 90% is a too-few country
    lowest, highest = charts._share_rgb(0, 0.42)[:3], charts._share_rgb(0.42, 0.42)[:3]
    assert f"rgba({','.join(map(str, lowest))},0.9) 0%" in key
    assert f"rgba({','.join(map(str, highest))},0.9) 100%" in key
    assert "too few posts" in key and 'aria-label="Colour key' in key
