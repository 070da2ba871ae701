"""Figure and display-table builders for the pages (presentation only, no statistics).

Every chart carries a title with its n, and axis labels with units; every share its CI.
Maps draw offline: Plotly's world shapes come from static/ (see MAP_CONFIG) and the pydeck
map uses no base-map style that needs a token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go
import pydeck as pdk
from plotly.subplots import make_subplots

from stigma_core import geo
from stigma_core.metrics import curves

MAP_CONFIG = {"topojsonURL": "app/static/", "displaylogo": False}
WORLD_SHAPES = Path(__file__).resolve().parents[1] / "static" / "world_110m.json"
CLASS_NAMES = {1: "Stigmatising", 0: "Other"}
CLASS_COLOURS = {"Stigmatising": "#c0392b", "Other": "#3b6ea5"}
# Okabe-Ito: told apart with every common colour-vision deficiency (D3's red and green are not)
MODEL_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000",
                 "#F0E442"]
# Sequential scale for shares on maps: viridis runs dark to light in every colour vision and
# never passes through grey, which marks countries with too few posts (Reds' pale end did).
SHARE_SCALE = "Viridis_r"
GREY = "#c8c8c8"
COLUMN_METRES = 5_000_000  # height of a 100% column on the pydeck map
MAP_ZOOM, MAP_PITCH = 0.8, 40  # the column map's first view
LABEL_PX = 15  # its labels' text size
EARTH_METRES = 40_075_016  # the equator's length: metres per pixel at a zoom
FEATURE_UNITS = {
    "sentiment": "polarity, −1 to 1",
    "subjectivity": "0 factual to 1 opinion",
    "length": "characters",
    "punctuation_ratio": "marks per character",
    "uppercase_words": "words",
    "avg_word_length": "letters per word",
    "word_count": "words",
    "char_count": "non-space characters",
    "hashtag_count": "hashtags",
    "numeric_count": "digits",
}
METRIC_LABELS = {
    "auc": "AUC", "accuracy": "Accuracy", "false_negatives": "Missed (FN)",
    "false_positives": "False alarms (FP)", "precision": "Precision", "recall": "Recall",
    "kappa": "Kappa", "predicted_positive_share": "Share flagged",
}


def ci_text(value: float, low: float, high: float, percent: bool = False) -> str:
    """'0.840 (0.790 to 0.880)' or '40.0% (36.1% to 44.0%)'; '—' for a missing value.

    Values under 10 (AUCs, kappas, F1, differences of sentiment) all get three decimals, so
    that figures side by side line up ('0.600' beside '0.631', not '0.6'); larger ones three
    significant figures. "to", not a dash, so that negative bounds read plainly:
    '-0.190 (-0.300 to -0.078)'.
    """
    if pd.isna(value):
        return "—"
    if percent:
        return f"{value:.1%} ({low:.1%} to {high:.1%})"
    form = ".3f" if max(abs(value), abs(low), abs(high)) < 10 else ".3g"
    return f"{value:{form}} ({low:{form}} to {high:{form}})"


def count_or_dash(value: object) -> str:
    """A count with thousands separators, or a dash where there is none (not 'None')."""
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"


def feature_distributions(values: pd.DataFrame, labels: pd.Series, violin: bool) -> go.Figure:
    """Per-class box or violin plots of each feature, one small panel per feature."""
    names = list(values.columns)
    classes = labels.astype(int).map(CLASS_NAMES).to_numpy()
    # Units go in each panel's title: axis titles of ten narrow panels run into each other.
    titles = [f"{name}<br><sup>{FEATURE_UNITS[name]}</sup>" if FEATURE_UNITS.get(name) else name
              for name in names]
    fig = make_subplots(rows=2, cols=5, subplot_titles=titles, vertical_spacing=0.2,
                        horizontal_spacing=0.05)
    for i, name in enumerate(names):
        for cls, colour in CLASS_COLOURS.items():
            y = values[name].to_numpy()[classes == cls]
            common = dict(y=y, name=cls, marker_color=colour, legendgroup=cls,
                          showlegend=i == 0)
            trace = go.Violin(box_visible=True, **common) if violin else go.Box(**common)
            fig.add_trace(trace, row=i // 5 + 1, col=i % 5 + 1)
    n = int(len(labels))
    fig.update_layout(
        title=f"The ten features by class (n = {n:,} labelled posts)", height=620,
        legend_title_text="Coded as",
    )
    return fig


def welch_display(table: pd.DataFrame) -> pd.DataFrame:
    """The Welch t-test table in readable columns (means, difference with 95% CI, p)."""
    return pd.DataFrame({
        "Stigmatising: mean (n)": [f"{m:.3g} ({n:,})" for m, n in
                                   zip(table["mean_stigma"], table["n_stigma"], strict=True)],
        "Other: mean (n)": [f"{m:.3g} ({n:,})" for m, n in
                            zip(table["mean_other"], table["n_other"], strict=True)],
        "Difference (95% CI)": [ci_text(d, lo, hi) for d, lo, hi in
                                zip(table["diff"], table["ci_low"], table["ci_high"], strict=True)],
        "t": table["t"].round(2),
        "p": table["p"].map(lambda p: f"{p:.2g}"),
        "Significant": table["significant"].map({True: "yes", False: "no"}),
    }, index=table.index)


STATS_COLUMNS = {
    "Source": "Source", "SS": "Sum of squares", "DF": "Degrees of freedom",
    "MS": "Mean square", "ddof1": "Degrees of freedom (groups)",
    "ddof2": "Degrees of freedom (within, Welch)", "F": "F", "p_unc": "p",
    "np2": "Effect size (partial eta squared)", "A": "Group A", "B": "Group B",
    "mean(A)": "Mean of A", "mean(B)": "Mean of B", "diff": "Difference (A - B)",
    "se": "Standard error", "T": "t", "df": "Degrees of freedom", "p_tukey": "p (Tukey)",
    "pval": "p (Games-Howell)", "hedges": "Effect size (Hedges' g)",
}


def stats_display(table: pd.DataFrame) -> pd.DataFrame:
    """An ANOVA or post-hoc table (pingouin's short column names) in words, numbers rounded
    to what can be read, p-values to two significant figures, empty cells as a dash."""
    shown = table.rename(columns=STATS_COLUMNS).copy()
    for column in shown.columns:
        values = shown[column]
        if not pd.api.types.is_numeric_dtype(values):
            shown[column] = values.where(values.notna(), "–")
            continue
        text = values.map(lambda v: f"{v:.2g}") if column.startswith("p") else \
            values.map(lambda v: f"{v:,.3g}")
        shown[column] = text.where(values.notna(), "–")
    return shown


def model_table(table: pd.DataFrame, n_test: int) -> pd.DataFrame:
    """The run's comparison table: each test metric with its 95% CI, threshold and fit time."""
    shown = pd.DataFrame({"Model": table["label"], "Kept": table["chosen"].map(
        {True: "★ kept", False: ""})})
    for name, label in METRIC_LABELS.items():
        cells = [ci_text(v, lo, hi) for v, lo, hi in zip(
            table[name], table[f"{name}_ci_low"], table[f"{name}_ci_high"], strict=True)]
        shown[f"{label} (95% CI)"] = cells
    shown["Threshold"] = table["threshold"].round(3)
    shown["Fit time (s)"] = table["fit_seconds"].round(1)
    shown.attrs["caption"] = f"Held-out test set, n = {n_test:,} posts."
    return shown


def curves_figure(results: Mapping[str, object], y_test: np.ndarray) -> go.Figure:
    """ROC and precision-recall curves of every model on the test set, side by side."""
    n, pos = len(y_test), int(np.sum(y_test))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC curve", "Precision-recall curve"))
    for i, result in enumerate(results.values()):
        c = curves(y_test, result.test_proba)
        line = {"color": MODEL_COLOURS[i % len(MODEL_COLOURS)]}
        fig.add_trace(go.Scatter(x=c["roc"]["fpr"], y=c["roc"]["tpr"], name=result.label,
                                 legendgroup=result.family, mode="lines", line=line),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=c["pr"]["recall"], y=c["pr"]["precision"], mode="lines",
                                 name=result.label, legendgroup=result.family, line=line,
                                 showlegend=False), row=1, col=2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line={"dash": "dot", "color": "grey"}), row=1, col=1)
    fig.update_xaxes(title_text="False-positive rate (share of other posts flagged)", row=1, col=1)
    fig.update_yaxes(title_text="True-positive rate (share of stigma found)", row=1, col=1)
    fig.update_xaxes(title_text="Recall (share of stigma found)", row=1, col=2)
    fig.update_yaxes(title_text="Precision (share of flags correct)", row=1, col=2)
    fig.update_layout(title=f"All models on the test set (n = {n:,}, {pos:,} stigmatising)",
                      height=480, legend={"orientation": "h", "y": -0.25})
    return fig


def confusion_figure(counts: Mapping[str, int], title: str) -> go.Figure:
    """A 2×2 confusion matrix (counts of posts) for one model at its threshold."""
    z = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
    n = sum(counts.values())
    fig = go.Figure(go.Heatmap(
        z=z, x=["Other", "Stigmatising"], y=["Other", "Stigmatising"], text=z,
        texttemplate="%{text}", colorscale="Blues", showscale=False,
        hovertemplate="Coded %{y}, model says %{x}: %{z} posts<extra></extra>",
    ))
    fig.update_layout(title=f"{title} (posts; n = {n:,})", height=300,
                      margin={"t": 50, "b": 10, "l": 10, "r": 10},
                      xaxis_title="Model's call", yaxis_title="Human code")
    return fig


def reliability_figure(curves: Mapping[str, pd.DataFrame], labels: Mapping[str, str]
                       ) -> go.Figure:
    """Reliability diagram: per bin of predicted probability, the share of test posts that
    really were stigmatising (Wilson 95% CI bars, n on hover); the diagonal is perfect."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="a 70% means 70%",
                               line={"dash": "dot", "color": "grey"}))
    n = 0
    for i, (family, curve) in enumerate(curves.items()):
        n = max(n, int(curve["n"].sum()))
        fig.add_trace(go.Scatter(
            x=curve["mean_predicted"], y=curve["observed"], mode="lines+markers",
            name=labels.get(family, family), customdata=curve["n"],
            line={"color": MODEL_COLOURS[i % len(MODEL_COLOURS)]},
            error_y={"type": "data", "symmetric": False,
                     "array": curve["ci_high"] - curve["observed"],
                     "arrayminus": curve["observed"] - curve["ci_low"]},
            hovertemplate="Model said %{x:.0%} → %{y:.0%} were stigmatising "
                          "(%{customdata} posts)<extra></extra>"))
    fig.update_layout(title=f"Do the model's probabilities come true? (test set, n = {n:,};"
                            " bars: 95% CI)", height=460, legend={"orientation": "h", "y": -0.25},
                      xaxis={"title": "Probability the model gave", "range": [-0.02, 1.02],
                             "tickformat": ".0%"},
                      yaxis={"title": "Share that really was stigmatising",
                             "range": [-0.02, 1.02], "tickformat": ".0%"})
    return fig


def calibration_display(table: pd.DataFrame) -> pd.DataFrame:
    """The calibration table for people: Brier score, gap and review workload with CIs."""
    return pd.DataFrame({
        "Model": table["label"],
        "Calibrated by": table["calibration"].map(
            {"sigmoid": "Platt scaling on CV", "isotonic": "isotonic on CV",
             "none": "as the model gives them"}),
        "Brier score (95% CI; lower is better)": [
            ci_text(v, lo, hi) for v, lo, hi in zip(table["brier"], table["brier_ci_low"],
                                                    table["brier_ci_high"], strict=True)],
        "Average gap, said vs came true": table["calibration_gap"].map(lambda g: f"{g:.0%}"),
        "Posts reviewed per stigmatising post caught (95% CI)": [
            f"{v:.2f} ({lo:.2f} to {hi:.2f})" for v, lo, hi in zip(
                table["reviews_per_catch"], table["reviews_ci_low"], table["reviews_ci_high"],
                strict=True)],
    })


def estimate_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Add estimate/ci_low/ci_high: the estimate each prevalence row says to trust."""
    corrected = table["trust"] == "corrected"
    out = table.copy()
    for part, raw in (("", "raw"), ("_ci_low", "raw_ci_low"), ("_ci_high", "raw_ci_high")):
        out[f"estimate{part}"] = np.where(corrected, table[f"corrected{part}"], table[raw])
    return out


def estimate_label(rows: pd.DataFrame) -> str:
    """Which estimate the shown rows of a prevalence table carry, in words for a chart title:
    the charts show the one each row says to trust, so a page whose headline is a corrected
    share must not leave a chart of raw shares unlabelled."""
    shown = set(rows.loc[rows["trust"] != "neither", "trust"])
    if shown == {"corrected"}:
        return "shares corrected for the model's errors"
    if shown == {"raw"}:
        return "shares as the model flags them, not corrected (correction unstable or unavailable)"
    return "shares corrected where stable, else as flagged (see the table)"


def _ci_bars(x: pd.Series, share: pd.Series, low: pd.Series, high: pd.Series, n: pd.Series
             ) -> go.Bar:
    """Shares as percentage bars with asymmetric 95% CI whiskers and each bar's n at its foot."""
    return go.Bar(
        x=x, y=share * 100, marker_color=CLASS_COLOURS["Stigmatising"],
        error_y={"type": "data", "symmetric": False, "array": (high - share) * 100,
                 "arrayminus": (share - low) * 100},
        text=[f"n = {count:,}" for count in n], textposition="inside", insidetextanchor="start",
    )


def share_bars(table: pd.DataFrame, title: str, group_label: str, n: int | None = None
               ) -> go.Figure:
    """Prevalence per group as bars with 95% CI whiskers; groups with too few posts left out.

    ``n`` is the number of posts behind the chart (default: the groups' total, right when
    the groups do not overlap).
    """
    rows = estimate_columns(table[~table["too_few"]])
    fig = go.Figure(_ci_bars(rows["group"].astype(str), rows["estimate"],
                             rows["estimate_ci_low"], rows["estimate_ci_high"], rows["n"]))
    total = int(table["n"].sum()) if n is None else n
    fig.update_layout(title={"text": f"{title} (n = {total:,} posts)<br><sup>"
                                     f"{estimate_label(rows).capitalize()}.</sup>"}, height=380,
                      xaxis_title=group_label, yaxis_title="Stigmatising posts (%, 95% CI)")
    return fig


def country_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Country rows of a prevalence table with names, ISO3, centroids and hover text."""
    rows = estimate_columns(table[table["group"] != "(not known)"])
    rows = rows.assign(iso3=rows["group"].map(geo.iso3), name=rows["group"].map(geo.country_name))
    centres = [_centre(iso3, iso2) for iso3, iso2 in zip(rows["iso3"], rows["group"], strict=True)]
    rows["lat"], rows["lon"] = [c[0] for c in centres], [c[1] for c in centres]
    rows["hover"] = [
        f"{name}: too few posts (n = {n:,})" if few else
        f"{name}: {ci_text(e, lo, hi, percent=True)}, n = {n:,} ({trust})"
        for name, n, few, e, lo, hi, trust in zip(
            rows["name"], rows["n"], rows["too_few"], rows["estimate"], rows["estimate_ci_low"],
            rows["estimate_ci_high"], rows["trust"], strict=True)
    ]
    return rows.dropna(subset=["iso3"])


def choropleth(countries: pd.DataFrame, min_n: int) -> go.Figure:
    """World map of prevalence per country; countries under min_n posts drawn grey."""
    shown, few = countries[~countries["too_few"]], countries[countries["too_few"]]
    fig = go.Figure()
    fig.add_trace(go.Choropleth(
        locations=few["iso3"], z=np.zeros(len(few)), text=few["hover"], hoverinfo="text",
        colorscale=[[0, GREY], [1, GREY]], showscale=False, name=f"fewer than {min_n} posts",
    ))
    fig.add_trace(go.Choropleth(
        locations=shown["iso3"], z=shown["estimate"] * 100, text=shown["hover"],
        hoverinfo="text", colorscale=SHARE_SCALE, zmin=0,
        zmax=max(shown["estimate"].max() * 100, 1),
        colorbar={"title": {"text": "Stigmatising<br>posts (%)"}},
    ))
    n = int(countries["n"].sum())
    # Explicit ranges: plotly.js guesses the map's centre from the shapes and, with the
    # offline shapes in static/, would centre the map on the Pacific.
    fig.update_geos(showframe=False, showcoastlines=False, projection_type="natural earth",
                    projection_rotation_lon=0, lonaxis_range=[-180, 180],
                    lataxis_range=[-58, 85], resolution=110, showcountries=True,
                    countrycolor="white", showland=True, landcolor="#eeeeee")
    fig.update_layout(title={"text": f"Stigmatising posts by country (n = {n:,} posts with a "
                                     f"country; grey: fewer than {min_n})<br><sup>"
                                     f"{estimate_label(shown).capitalize()}.</sup>"},
                      height=460,
                      margin={"l": 0, "r": 0, "t": 50, "b": 0})
    return fig


@lru_cache(maxsize=1)
def _world_shapes() -> dict:
    """The offline world shapes (TopoJSON) that static/ serves to the Plotly maps."""
    return json.loads(WORLD_SHAPES.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _arcs() -> list[np.ndarray]:
    """The TopoJSON's arcs as lon/lat arrays (arcs are delta-encoded integers)."""
    topo = _world_shapes()
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    return [np.cumsum(np.asarray(arc, dtype=float), axis=0) * (sx, sy) + (tx, ty)
            for arc in topo["arcs"]]


@lru_cache(maxsize=1)
def shape_centres() -> dict[str, tuple[float, float]]:
    """(lat, lon) of each country's centre as the offline shapes give it, by ISO3 code."""
    countries = _world_shapes()["objects"]["countries"]["geometries"]
    return {g["id"]: (g["properties"]["ct"][1], g["properties"]["ct"][0])
            for g in countries if "ct" in g.get("properties", {})}


def _centre(iso3: str | None, iso2: str) -> tuple[float, float]:
    """(lat, lon) for a country's column: its shape's centre, else its capital, else NaN."""
    return shape_centres().get(iso3) or geo.country_centroid(iso2) or (np.nan, np.nan)


@lru_cache(maxsize=1)
def country_outlines() -> list[dict]:
    """Every country's outline as pydeck polygons, decoded from the offline TopoJSON (the
    shapes static/ serves to the Plotly maps): the pydeck map's base layer, with no tiles."""
    arcs = _arcs()

    def ring(indices: list[int]) -> list[list[float]]:
        """One ring's points; a negative index means the arc reversed (``~index``). A ring
        crossing the 180th meridian gets its western points shifted by 360 degrees, or it
        would be drawn as a band across the whole map."""
        points = np.concatenate([arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices])
        lon = points[:, 0]
        if lon.max() - lon.min() > 180:
            points[:, 0] = np.where(lon < 0, lon + 360, lon)
        return points.round(3).tolist()

    polygons = []
    for country in _world_shapes()["objects"]["countries"]["geometries"]:
        if country.get("id") == "ATA":  # Antarctica rings the pole: a band, and no posts
            continue
        shapes = {"Polygon": [country.get("arcs", [])],
                  "MultiPolygon": country.get("arcs", [])}.get(country["type"], [])
        for shape in shapes:
            if shape:
                polygons.append({"polygon": ring(shape[0])})
    return polygons


def _share_rgb(share: float, top: float) -> list[int]:
    """The choropleth's colour (SHARE_SCALE, 0 to ``top``) for a share, as RGBA for pydeck."""
    colour = pcolors.sample_colorscale(SHARE_SCALE, [min(share / top, 1.0)],
                                       colortype="tuple")[0]
    return [round(c * 255) for c in colour] + [230]


def column_legend_html(countries: pd.DataFrame) -> str:
    """The column map's colour key as a small HTML strip: the colour scale from 0% to the
    highest share shown, and the grey of countries with too few posts. Built from numbers
    only (no text from the data), so it is safe to render as HTML."""
    shown = countries.loc[~countries["too_few"], "estimate"].dropna()
    top = max(float(shown.clip(0, 1).max()) if len(shown) else 0.0, 0.01)
    stops = ", ".join(f"rgba({r},{g},{b},0.9) {i * 25}%" for i, (r, g, b, _) in
                      enumerate(_share_rgb(top * i / 4, top) for i in range(5)))
    swatch = "display:inline-block;vertical-align:middle;height:14px;border-radius:2px"
    return (f'<div role="img" aria-label="Colour key: 0% to {top:.0%} of posts stigmatising; '
            f'grey: too few posts" style="font-size:0.9rem;margin:0.2rem 0 0.6rem">'
            f'0% <span style="{swatch};width:220px;background:linear-gradient(to right, '
            f'{stops})"></span> {top:.0%} stigmatising &nbsp;&nbsp; <span style="{swatch};'
            f'width:22px;background:rgb(200,200,200)"></span> too few posts</div>')


def labels_that_fit(data: pd.DataFrame) -> np.ndarray:
    """Which column labels ("United Kingdom 31%") to draw so that none overlaps another: the
    countries with most posts first, a label left out where it would cover one already placed
    (a hover still tells its figure). Placed on the map's first view, roughly as deck.gl
    projects it: Web Mercator at ``MAP_ZOOM``, the ground squeezed by the ``MAP_PITCH`` tilt,
    each label lifted to the top of its column."""
    world = 512 * 2 ** MAP_ZOOM  # pixels for 360 degrees
    tilt = np.radians(MAP_PITCH)
    lat = np.radians(data["lat"].clip(-85, 85).to_numpy(float))
    x = (data["lon"].to_numpy(float) + 180) / 360 * world
    ground = world / (2 * np.pi) * (np.pi - np.log(np.tan(np.pi / 4 + lat / 2)))
    y = ground * np.cos(tilt) - data["height"].to_numpy(float) / (EARTH_METRES / world) * (
        np.sin(tilt))
    width = data["label"].str.len().to_numpy(float) * LABEL_PX * 0.62
    placed: list[int] = []
    keep = np.zeros(len(data), dtype=bool)
    for i in np.argsort(-data["n"].to_numpy(float), kind="stable"):
        if not data["label"].iloc[i]:
            continue
        if all(abs(x[i] - x[j]) > (width[i] + width[j]) / 2 + 4
               or abs(y[i] - y[j]) > LABEL_PX + 4 for j in placed):
            placed.append(i)
            keep[i] = True
    return keep


def _column_frame(countries: pd.DataFrame) -> pd.DataFrame:
    """The column map's rows: height, colour and the label drawn (empty where none fits)."""
    data = countries.dropna(subset=["lat", "lon"]).copy()
    share = data["estimate"].fillna(0).clip(0, 1)
    top = max(float(share[~data["too_few"]].max() if (~data["too_few"]).any() else 0), 0.01)
    data["height"] = np.where(data["too_few"], 0.02, share) * COLUMN_METRES
    data["colour"] = [
        [200, 200, 200, 200] if few else _share_rgb(s, top)
        for few, s in zip(data["too_few"], share, strict=True)
    ]
    data["label"] = [f"{name} {s:.0%}" if not few else "" for name, s, few in
                     zip(data["name"], share, data["too_few"], strict=True)]
    data["label"] = data["label"].where(labels_that_fit(data), "")
    return data


def unlabelled_countries(countries: pd.DataFrame) -> list[str]:
    """Countries with a column but no label on the column map (it would cover another)."""
    data = _column_frame(countries)
    return data.loc[~data["too_few"] & (data["label"] == ""), "name"].tolist()


def column_map(countries: pd.DataFrame) -> pdk.Deck:
    """pydeck column map on offline country shapes: height and colour = prevalence, a label
    with the share above each column (where it fits); grey = too few posts. A narrow field of
    view keeps the columns upright wherever they stand (less perspective lean at the edges)."""
    data = _column_frame(countries)
    base = pdk.Layer("PolygonLayer", data=country_outlines(), get_polygon="polygon",
                     get_fill_color=[238, 238, 238], get_line_color=[150, 150, 150],
                     line_width_min_pixels=1, stroked=True, filled=True)
    columns = pdk.Layer(
        "ColumnLayer", data=data[["lon", "lat", "height", "colour", "hover"]],
        get_position=["lon", "lat"], get_elevation="height", get_fill_color="colour",
        radius=170_000, elevation_scale=1, pickable=True, extruded=True,
    )
    labels = pdk.Layer("TextLayer", data=data[["lon", "lat", "height", "label"]],
                       get_position=["lon", "lat", "height"], get_text="label", get_size=LABEL_PX,
                       get_color=[30, 30, 30], get_text_anchor="'middle'",
                       get_alignment_baseline="'bottom'", billboard=True)
    view = pdk.ViewState(latitude=20, longitude=10, zoom=MAP_ZOOM, pitch=MAP_PITCH)
    return pdk.Deck(layers=[base, columns, labels], initial_view_state=view, map_style=None,
                    views=[pdk.View(type="MapView", controller=True, fovy=12)],
                    tooltip={"text": "{hover}"})


def class_histogram(scored: pd.DataFrame, feature: str) -> go.Figure:
    """Distribution of one feature for posts predicted stigmatising vs not."""
    fig = go.Figure()
    for code, cls in CLASS_NAMES.items():
        values = scored.loc[scored["stigma_predicted"] == code, feature]
        fig.add_trace(go.Histogram(x=values, name=f"{cls} (n = {len(values):,})",
                                   marker_color=CLASS_COLOURS[cls], opacity=0.6,
                                   histnorm="percent", nbinsx=30))
    fig.update_layout(barmode="overlay", height=340,
                      title=f"{feature.capitalize()} by predicted class (n = {len(scored):,})",
                      xaxis_title=f"{feature} ({FEATURE_UNITS[feature]})",
                      yaxis_title="Posts in class (%)")
    return fig


def country_box(scored: pd.DataFrame, feature: str, countries: list[str]) -> go.Figure:
    """Box plots of one feature per country (the given countries), split by predicted class."""
    rows = scored[scored["country"].isin(countries)]
    fig = go.Figure()
    for code, cls in CLASS_NAMES.items():
        part = rows[rows["stigma_predicted"] == code]
        fig.add_trace(go.Box(x=part["country"], y=part[feature], name=cls,
                             marker_color=CLASS_COLOURS[cls]))
    fig.update_layout(boxmode="group", height=380,
                      title=f"{feature.capitalize()} by country (n = {len(rows):,} posts)",
                      xaxis_title="Country (ISO code)",
                      yaxis_title=f"{feature} ({FEATURE_UNITS[feature]})")
    return fig


def kappa_figure(table: pd.DataFrame) -> go.Figure:
    """Kappa with 95% CI per pair: model-vs-rater pairs beside the raters' own agreement."""
    pairs = table["first"] + " vs " + table["second"]
    is_model = table["first"] == "model"
    fig = go.Figure(go.Scatter(
        x=table["kappa"], y=pairs, mode="markers",
        marker={"size": 11, "color": np.where(is_model, CLASS_COLOURS["Stigmatising"],
                                              CLASS_COLOURS["Other"])},
        error_x={"type": "data", "symmetric": False,
                 "array": table["kappa_ci_high"] - table["kappa"],
                 "arrayminus": table["kappa"] - table["kappa_ci_low"]},
        text=[f"n = {n:,}" for n in table["n"]], hovertemplate="%{y}: %{x:.2f} (%{text})",
    ))
    fig.update_layout(title=f"Cohen's kappa with 95% CI (n = {int(table['n'].max()):,} posts; "
                            "red: model vs rater, blue: rater vs rater)",
                      xaxis_title="Cohen's kappa (−1 to 1; 1 = perfect agreement)",
                      yaxis_title="Pair", height=120 + 40 * len(table))
    return fig


def source_prevalence_figure(table: pd.DataFrame) -> go.Figure:
    """Share of posts called stigmatising by the model, each rater and the majority."""
    fig = go.Figure(_ci_bars(table["source"], table["prevalence"], table["ci_low"],
                             table["ci_high"], table["n"]))
    fig.update_layout(title=f"Prevalence found by model vs raters (n = {int(table['n'].max()):,}"
                            " posts)", xaxis_title="Who coded",
                      yaxis_title="Posts coded stigmatising (%, Wilson 95% CI)", height=360)
    return fig


def country_table(countries: pd.DataFrame) -> pd.DataFrame:
    """Readable country table: n, the estimate to trust in %, its CI and CI width in points,
    and a short note only where a row needs one (a warning, or too few posts); the long
    reading of corrected vs raw shares is said once under the table (``ESTIMATE_CAPTION``)."""
    warnings = countries.get("warning", pd.Series("", index=countries.index)).fillna("")
    notes = ["too few posts for an estimate" if few else warning
             for warning, few in zip(warnings, countries["too_few"], strict=True)]
    table = pd.DataFrame({
        "Country": countries["name"],
        "Code": countries["group"],
        "n": countries["n"],
        "Prevalence (%)": (countries["estimate"] * 100).round(1),
        "CI low (%)": (countries["estimate_ci_low"] * 100).round(1),
        "CI high (%)": (countries["estimate_ci_high"] * 100).round(1),
        "CI width (points)": (countries["ci_width"] * 100).round(1),
        "Estimate": countries["trust"],
        "Note": notes,
    })
    return table if any(notes) else table.drop(columns="Note")


ESTIMATE_CAPTION = (
    "Estimate 'corrected': the share with the model's measured errors removed (valid if those "
    "errors were measured on posts like these); 'raw': the share as the model flags them, "
    "false alarms counted and misses left out — shown where the correction is unstable.")


def learning_curve_figure(curve: pd.DataFrame) -> go.Figure:
    """Cross-validated AUC against coded posts, with its 95% CI band."""
    x = curve["n_coded"].tolist()
    figure = go.Figure([
        go.Scatter(x=x + x[::-1], y=curve["ci_high"].tolist() + curve["ci_low"].tolist()[::-1],
                   fill="toself", fillcolor="rgba(59,110,165,0.18)", line={"width": 0},
                   hoverinfo="skip", name="95% CI"),
        go.Scatter(x=x, y=curve["auc"], mode="lines+markers", name="AUC",
                   line={"color": "#3b6ea5", "width": 3}),
    ])
    figure.update_layout(
        title=f"Does more coding still help? Cross-validated AUC ({int(curve['folds'].iloc[0])} "
              f"folds, n = {x[-1]:,} training posts at most)",
        xaxis_title="Coded posts used for training", yaxis_title="AUC (0.5 = guessing)",
        yaxis_range=[0.4, 1.0], showlegend=False, height=360)
    return figure


# --- Insights: domain and theme shares, mixes, trends, segments -------------------------------

TAG_COLOURS = {  # Okabe-Ito (colour-blind safe); grey for "none" and "other"
    "self": "#E69F00", "community": "#0072B2", "professional": "#009E73", "none": GREY,
    "awareness": "#56B4E9", "actionable": "#009E73", "help_seeking": "#D55E00",
    "personal_story": "#CC79A7", "other": GREY, "stigmatising": CLASS_COLOURS["Stigmatising"],
}


def tag_name(tag: str) -> str:
    """A class's plain display name ("help_seeking" -> "Help-seeking")."""
    from stigma_core.insights import CLASS_NAMES as TAG_NAMES
    return TAG_NAMES.get(tag, str(tag))


def _short(tag: str) -> str:
    """A class's name without its explanation in brackets, for axes and legends."""
    return tag_name(tag).split(" (")[0]


def tag_share_bars(table: pd.DataFrame, title: str, what: str = "posts") -> go.Figure:
    """One bar per class: its share (%) with the Wilson 95% CI as whiskers and "k of n" on
    the bar. ``table``: rows of ``insights.tag_shares`` for one group (columns ``tag, n, k,
    share, ci_low, ci_high``)."""
    rows = table.dropna(subset=["share"])
    fig = go.Figure(go.Bar(
        x=[f"{_short(t)}<br>{k:,} posts" for t, k in zip(rows["tag"], rows["k"], strict=True)],
        y=rows["share"] * 100,
        marker_color=[TAG_COLOURS.get(t, CLASS_COLOURS["Other"]) for t in rows["tag"]],
        error_y={"type": "data", "symmetric": False,
                 "array": (rows["ci_high"] - rows["share"]) * 100,
                 "arrayminus": (rows["share"] - rows["ci_low"]) * 100},
        customdata=[f"{k:,} of {n:,}" for k, n in zip(rows["k"], rows["n"], strict=True)],
        hovertemplate="%{x}: %{y:.1f}% (%{customdata})<extra></extra>",
    ))
    n = int(table["n"].max()) if len(table) else 0
    fig.update_layout(title=f"{title} (n = {n:,} {what})", height=420, showlegend=False,
                      yaxis_title="Share of posts (%, Wilson 95% CI)", xaxis_title=None,
                      xaxis_tickangle=0, margin={"t": 60, "b": 40})
    return fig


def stigma_by_tag_bars(table: pd.DataFrame, title: str) -> go.Figure:
    """The share flagged stigmatising within each class, with Wilson 95% CIs and each n."""
    rows = table.dropna(subset=["share"])
    fig = go.Figure(go.Bar(
        x=[f"{_short(t)}<br>n = {n:,}" for t, n in zip(rows["tag"], rows["n"], strict=True)],
        y=rows["share"] * 100, marker_color=CLASS_COLOURS["Stigmatising"],
        error_y={"type": "data", "symmetric": False,
                 "array": (rows["ci_high"] - rows["share"]) * 100,
                 "arrayminus": (rows["share"] - rows["ci_low"]) * 100},
        hovertemplate="%{x}: %{y:.1f}% flagged<extra></extra>",
    ))
    fig.update_layout(title=f"{title} (n = {int(table['n'].sum()):,} posts)", height=400,
                      yaxis_title="Flagged stigmatising (%, 95% CI)", xaxis_title=None,
                      xaxis_tickangle=0)
    return fig


def mix_bars(table: pd.DataFrame, title: str, group_label: str) -> go.Figure:
    """Grouped bars: each class's share (%) per group with Wilson 95% CI whiskers; groups with
    too few posts left out. ``table``: ``insights.tag_shares`` by a group column."""
    rows = table[~table["too_few"]]
    fig = go.Figure()
    for tag in pd.unique(rows["tag"]):
        part = rows[rows["tag"] == tag]
        fig.add_trace(go.Bar(
            x=part["group"].astype(str), y=part["share"] * 100, name=_short(tag),
            marker_color=TAG_COLOURS.get(tag),
            customdata=[f"{k:,} of {n:,}" for k, n in zip(part["k"], part["n"], strict=True)],
            error_y={"type": "data", "symmetric": False,
                     "array": (part["ci_high"] - part["share"]) * 100,
                     "arrayminus": (part["share"] - part["ci_low"]) * 100},
            hovertemplate="%{x}, " + _short(tag) + ": %{y:.1f}% (%{customdata})<extra></extra>",
        ))
    n = int(rows.drop_duplicates("group")["n"].sum())
    fig.update_layout(barmode="group", height=420, title=f"{title} (n = {n:,} posts)",
                      xaxis_title=group_label, yaxis_title="Share of the group's posts (%, 95% CI)",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def trend_lines(table: pd.DataFrame, title: str, period: str) -> go.Figure:
    """Each class's share per period as lines with 95% CI whiskers (periods with too few
    posts left out)."""
    rows = table[~table["too_few"]]
    fig = go.Figure()
    for tag in pd.unique(rows["tag"]):
        part = rows[rows["tag"] == tag]
        fig.add_trace(go.Scatter(
            x=part["group"], y=part["share"] * 100, name=_short(tag), mode="lines+markers",
            line={"color": TAG_COLOURS.get(tag), "width": 3},
            error_y={"type": "data", "symmetric": False, "thickness": 1,
                     "array": (part["ci_high"] - part["share"]) * 100,
                     "arrayminus": (part["share"] - part["ci_low"]) * 100},
            customdata=part["n"], hovertemplate="%{x}: %{y:.1f}% (n = %{customdata:,})"
                                                "<extra></extra>",
        ))
    n = int(rows.drop_duplicates("group")["n"].sum())
    fig.update_layout(title=f"{title} by {period} (n = {n:,} posts with a date)", height=420,
                      xaxis_title=period.capitalize(),
                      yaxis_title="Share of the period's posts (%, 95% CI)",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def mix_table(table: pd.DataFrame, group_label: str) -> pd.DataFrame:
    """A ``tag_shares`` table made wide and readable: one row per group, its n, and each
    class's share with its 95% CI ("too few posts" under the minimum)."""
    groups = list(pd.unique(table["group"]))
    out = pd.DataFrame({group_label: groups})
    first = table.drop_duplicates("group").set_index("group")
    out["Posts (n)"] = [int(first.loc[g, "n"]) for g in groups]
    for tag in pd.unique(table["tag"]):
        rows = table[table["tag"] == tag].set_index("group")
        out[f"{_short(tag)} (95% CI)"] = [
            "too few posts" if rows.loc[g, "too_few"] else
            ci_text(rows.loc[g, "share"], rows.loc[g, "ci_low"], rows.loc[g, "ci_high"],
                    percent=True) for g in groups]
    return out


FLAGGED_RAW = "Flagged stigmatising (raw: as the model flags them, not corrected)"


def comparison_table(table: pd.DataFrame, by_label: str) -> pd.DataFrame:
    """``insights.compare_groups``'s long table with the groups side by side: one column per
    group, one row per measure (posts, flagged stigmatising when scored, each domain and
    theme share), every share with its 95% CI ("too few posts" under the minimum)."""
    groups = list(pd.unique(table["group"]))
    first = table.drop_duplicates("group").set_index("group")
    rows = [{by_label: "Posts (n)", **{g: f"{int(first.loc[g, 'n']):,}" for g in groups}}]
    names = {"stigma": FLAGGED_RAW, "domain": "Domain", "theme": "Theme"}
    for column in pd.unique(table["column"]):
        part = table[table["column"] == column]
        for tag in pd.unique(part["tag"]):
            cells = part[part["tag"] == tag].set_index("group")
            label = names[column] if column == "stigma" else f"{names.get(column, column)}: " \
                f"{_short(tag).lower()}"
            rows.append({by_label: label, **{
                g: "too few posts" if cells.loc[g, "too_few"] else ci_text(
                    cells.loc[g, "share"], cells.loc[g, "ci_low"], cells.loc[g, "ci_high"],
                    percent=True) for g in groups}})
    return pd.DataFrame(rows)


def gap_bars(gap: pd.DataFrame) -> go.Figure:
    """Per domain: actionable, awareness and help-seeking shares with 95% CIs, side by side."""
    rows = gap[~gap["too_few"]]
    fig = go.Figure()
    for theme in ("awareness", "actionable", "help_seeking"):
        fig.add_trace(go.Bar(
            x=[f"{_short(d)}<br>n = {n:,}" for d, n in zip(rows["domain"], rows["n"],
                                                          strict=True)],
            y=rows[theme] * 100, name=_short(theme), marker_color=TAG_COLOURS[theme],
            error_y={"type": "data", "symmetric": False,
                     "array": (rows[f"{theme}_ci_high"] - rows[theme]) * 100,
                     "arrayminus": (rows[theme] - rows[f"{theme}_ci_low"]) * 100},
            customdata=[f"{k:,}" for k in rows[f"{theme}_k"]],
            hovertemplate="%{x}, " + _short(theme) + ": %{y:.1f}% (%{customdata} posts)"
                          "<extra></extra>",
        ))
    fig.update_layout(barmode="group", height=420,
                      title=f"Awareness vs actionable advice by domain (n = "
                            f"{int(rows['n'].sum()):,} posts about mental health)",
                      xaxis_title="Domain", yaxis_title="Share of the domain's posts "
                                                        "(%, 95% CI)",
                      legend={"orientation": "h", "y": -0.2})
    return fig


def gap_table(gap: pd.DataFrame) -> pd.DataFrame:
    """The action-gap table in readable columns, shares with 95% CIs, gap in points."""
    out = pd.DataFrame({"Domain": [tag_name(d) for d in gap["domain"]],
                        "Posts (n)": gap["n"].map(count_or_dash)})
    for theme in ("awareness", "actionable", "help_seeking"):
        out[f"{_short(theme)} (95% CI)"] = [
            "too few posts" if few else ci_text(v, lo, hi, percent=True)
            for v, lo, hi, few in zip(gap[theme], gap[f"{theme}_ci_low"],
                                      gap[f"{theme}_ci_high"], gap["too_few"], strict=True)]
    out["Gap (points)"] = (gap["gap"] * 100).round(1)
    return out


def segment_display(table: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Segments in readable columns: name, more distinguishing terms, n, stigma share with CI
    (when scored), and where each is over-represented (lift, n there)."""
    rows = table.merge(profile.drop(columns="n"), on="segment", how="left")
    out = pd.DataFrame({
        "Segment (its most distinctive words)": rows["name"],
        "Also distinctive": rows["terms"].map(lambda t: ", ".join(t.split(", ")[3:8])),
        "Posts (n)": rows["n"],
    })
    if "stigma_share" in rows:
        out["Flagged stigmatising (95% CI)"] = [
            "too few posts" if pd.isna(v) else ci_text(v, lo, hi, percent=True)
            for v, lo, hi in zip(rows["stigma_share"], rows["stigma_ci_low"],
                                 rows["stigma_ci_high"], strict=True)]
    for column, label in (("platform", "platform"), ("country", "country")):
        if f"{column}_top" not in rows:
            continue
        named = geo.country_name if column == "country" else str
        out[f"Over-represented: {label}"] = [
            "—" if top is None or pd.isna(lift) else f"{named(top)}: {lift:.1f}× ({n:,} posts)"
            for top, lift, n in zip(rows[f"{column}_top"], rows[f"{column}_lift"],
                                    rows[f"{column}_n"], strict=True)]
    return out


def tagger_table(per_class: pd.DataFrame) -> pd.DataFrame:
    """A trained tagger's cross-validated F1 per class with bootstrap 95% CIs and support."""
    return pd.DataFrame({
        "Class": [tag_name(c) for c in per_class["class"]],
        "F1 (95% CI)": [ci_text(v, lo, hi) for v, lo, hi in zip(
            per_class["f1"], per_class["ci_low"], per_class["ci_high"], strict=True)],
        "Coded posts (n)": per_class["support"],
    })


def _ci_column(values: pd.Series, low: pd.Series, high: pd.Series,
               percent: bool = False) -> list[str]:
    """One "value (a to b)" string per row."""
    return [ci_text(v, lo, hi, percent=percent) for v, lo, hi in zip(values, low, high,
                                                                         strict=True)]


def agreement_display(pairs: pd.DataFrame, overall: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Coding page's agreement tables: Cohen's kappa per pair, and the all-rater figures,
    each with n, its 95% CI and a plain-words reading."""
    per_pair = pd.DataFrame({
        "Raters": pairs["pair"], "Posts both coded (n)": pairs["n"],
        "Cohen's kappa (95% CI)": _ci_column(pairs["kappa"], pairs["ci_low"], pairs["ci_high"]),
        "Agreement (%)": pairs["percent_agreement"].round(1), "In plain words": pairs["reading"],
    })
    across = pd.DataFrame({
        "Across all raters": overall["statistic"], "Posts (n)": overall["n"],
        "Value (95% CI)": _ci_column(overall["value"], overall["ci_low"], overall["ci_high"]),
        "In plain words": overall["reading"],
    })
    return per_pair, across


def coded_group_table(rows: pd.DataFrame, label: str) -> pd.DataFrame:
    """Prevalence by group from a coded sample (``corpus_prevalence`` group rows)."""
    return pd.DataFrame({
        label: rows["group"],
        "Posts (n)": rows["n"],
        "Flagged by the model": rows["raw"].map(lambda v: f"{v:.1%}"),
        "From the coded sample (95% CI)": _ci_column(rows["corrected"], rows["ci_low"],
                                                     rows["ci_high"], percent=True),
        "Coded posts": rows["error_rates_from"].str.extract(r"n = (\d+)")[0],
        "Note": rows["warning"],
    })


def help_question_table(questions: pd.DataFrame, with_examples: bool) -> pd.DataFrame:
    """The help-seeking questions most asked, with n, share and CI (examples only when posts
    may be shown)."""
    shown = pd.DataFrame({
        "Question about": questions["name"], "Posts (n)": questions["n"],
        "Share of help-seeking posts (95% CI)": _ci_column(
            questions["share"], questions["ci_low"], questions["ci_high"], percent=True),
    })
    if with_examples:
        shown["Examples (masked)"] = [" | ".join(e) for e in questions["examples"]]
    return shown


def override_rows(report: object, previous: dict, privacy: bool) -> tuple[pd.DataFrame, int]:
    """The location-correction table: corrections already made, then the commonest locations
    that matched no country with their number of posts; with ``privacy`` on, locations holding
    a handle, link, e-mail or phone number are left out (their count returned), since profile
    locations can name a person."""
    from stigma_core.privacy import mask_series

    table = pd.concat([
        pd.DataFrame({"location": list(previous), "country": [v or "" for v in previous.values()]}),
        geo.override_table(report).assign(posts=[n for _, n in report.top_unresolved]),
    ], ignore_index=True).drop_duplicates("location")
    if not privacy:
        return table, 0
    personal = mask_series(table["location"].astype(str)) != table["location"].astype(str)
    return table[~personal], int(personal.sum())
