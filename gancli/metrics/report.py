"""The charts of `gancli report`, from a run's training log and its recorded evaluations."""

from __future__ import annotations

from .plots import PALETTE, Series, grid, line_chart

LOSS_KEYS = ("d_loss", "g_loss", "penalty")
OUTPUT_KEYS = ("d_real", "d_fake")
FEATURE_KEYS = {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage"}


def loss_charts(records: list):
    """Losses (and penalty) and the discriminator's mean outputs over steps; None without records."""
    if not records:
        return None
    steps = [r["step"] for r in records]
    charts = []
    for title, keys in (("losses", LOSS_KEYS), ("discriminator outputs (mean)", OUTPUT_KEYS)):
        series = [Series(key, steps, [r.get(key) for r in records], PALETTE[i])
                  for i, key in enumerate(keys) if any(key in r for r in records)]
        if series:
            charts.append(line_chart(series, title))
    return grid(charts, columns=1)


def diagnostics_charts(records: list, signals: list, alarms: list):
    """One chart per diagnostics signal over the steps it was computed at, with the title naming any alarm it
    raised; None when the records hold none of ``signals``."""
    fired = {}
    for event in alarms:
        for name in event.get("signals", {}):
            fired.setdefault(name, []).append(f"{event['kind']} at step {event['step']}")
    charts = []
    for name in signals:
        points = [(r["step"], r[name]) for r in records if name in r]
        if points:
            title = name + (f"  (alarm: {', '.join(fired[name])})" if name in fired else "")
            charts.append(line_chart([Series(name, [s for s, _ in points], [v for _, v in points], PALETTE[0])],
                                     title, size=(520, 320)))
    return grid(charts, columns=2) if charts else None


def evaluation_charts(records: list):
    """One chart per figure: its value at each evaluated step and its floor (dashed); None without records."""
    by_step = {}
    for record in records:
        step = record.get("generator", {}).get("step")
        if step is not None:
            by_step[step] = record  # the latest evaluation of a step wins
    if not by_step:
        return None
    steps = sorted(by_step)
    keys = list(dict.fromkeys(k for s in steps for k in by_step[s]["values"]))
    charts = []
    for key in keys:
        values = [by_step[s]["values"].get(key) for s in steps]
        floors = [by_step[s]["floors"].get(key) for s in steps]
        extractor = by_step[steps[-1]].get("extractor", {}).get("type")
        title = key + (f"  ({extractor} features)" if extractor and key in FEATURE_KEYS else "")
        charts.append(line_chart([Series(key, steps, values, PALETTE[0], markers=True),
                                  Series("floor", steps, floors, PALETTE[1], dashed=True)],
                                 title, size=(520, 320)))
    return grid(charts, columns=2)
