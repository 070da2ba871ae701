"""Model lab (AppTest): the reliability diagram, Brier scores and review workload."""

from __future__ import annotations

import re

from app_support import figures, open_app, texts, train_fast

from stigma_core import models


def test_reliability_diagram_and_brier_per_model() -> None:
    at = train_fast(open_app())
    assert not at.exception
    assert "Can the probabilities be taken at their word?" in texts(at.subheader)
    assert any("a 70% must mean 70%" in m for m in texts(at.markdown))
    table = next(d.value for d in at.dataframe
                 if "Brier score (95% CI; lower is better)" in d.value)
    assert len(table) == 2
    briers = table["Brier score (95% CI; lower is better)"].str.extract(
        r"^([\d.]+) \(([\d.]+) to ([\d.]+)\)$").astype(float)
    assert ((briers[1] <= briers[0]) & (briers[0] <= briers[2])).all()
    assert (briers[0] < 0.25).all()  # both beat always saying 50% on the sample data
    reviews = table["Posts reviewed per stigmatising post caught (95% CI)"].str.extract(
        r"^([\d.]+) \(([\d.]+) to ([\d.]+)\)$").astype(float)
    assert ((reviews[0] >= 1) & (reviews[1] <= reviews[0]) & (reviews[0] <= reviews[2])).all()
    reliability = next(f for f in figures(at)
                       if "Do the model's probabilities come true?" in f.layout.title.text)
    assert "n = 160" in reliability.layout.title.text
    names = {t.name for t in reliability.data}
    short = {models.FAMILIES[f].label.split(" (")[0] for f in ("logistic_regression",
                                                               "naive_bayes")}
    assert names == short | {"a 70% means 70%"}
    for trace in reliability.data[1:]:
        xs, ys = list(trace.x), list(trace.y)
        assert all(0 <= v <= 1 for v in xs + ys) and xs == sorted(xs)
        assert sum(trace.customdata) == 160  # every test post in one bin
    caption = next(c for c in texts(at.caption) if "Measured on 160 held-out" in c)
    found = re.search(r"Posts reviewed per stigmatising post caught: ([\d.]+) \(95% CI "
                      r"([\d.]+) to ([\d.]+)\)", caption)
    value, low, high = map(float, found.groups())
    assert 1 <= low <= value <= high
