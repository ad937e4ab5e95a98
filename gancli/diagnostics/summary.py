"""A run's health over time from its files (run.json, metrics.jsonl, alarms.jsonl): ``gancli diagnose``.

It reads, never trains, so it works on a finished run and on one still training.
"""

from __future__ import annotations

import os

from ..errors import GancliError
from . import ALARMS

POINTS = 5  # values shown per signal: evenly spaced over the steps it was computed at


def summarize(run_dir: str, registry=None) -> dict:
    """The health of the run in ``run_dir``: each signal over time, the alarms fired and their advice.

    Raises GancliError (one line) for a directory that is no run, a run with no metrics yet, and a run trained
    without diagnostics (from before they existed, or with --diagnostics off), saying what it can tell."""
    from ..engine.runs import METRICS, read_run_json
    from ..metrics.records import read_jsonl

    config = read_run_json(run_dir)
    records = read_jsonl(os.path.join(run_dir, METRICS))
    if not records:
        raise GancliError(f"{run_dir} has no metrics yet ({METRICS} is empty or missing): let it train past its "
                          f"first --log-every steps, then diagnose it")
    last = records[-1]["step"]
    if "diagnostics" not in config or not config["diagnostics"]:
        before = "diagnostics" not in config
        why = "was trained before gancli had diagnostics" if before else "was trained with --diagnostics off"
        then = (f"gancli train --resume {run_dir} --steps N diagnoses the steps it trains from then on" if before
                else "train a new run with --diagnostics on (the default) to diagnose it")
        raise GancliError(f"{run_dir} {why}: its {METRICS} tells the losses and D's mean scores up to step {last} "
                          f"(gancli report {run_dir} draws them), not G's gradients, saturation, diversity, coverage "
                          f"or overfitting; {then}")
    described = signal_descriptions(config["diagnostics"], registry)
    series = {}
    for record in records:
        for name in described:
            if name in record:
                series.setdefault(name, []).append((record["step"], record[name]))
    if not series:
        raise GancliError(f"{run_dir} has no diagnostics signals yet (up to step {last}; they are computed every "
                          f"50-100 steps): diagnose it again later")
    alarms = read_jsonl(os.path.join(run_dir, ALARMS))
    return {"run": run_dir, "step": last, "steps": config.get("steps"),
            "diagnostics": [item["name"] for item in config["diagnostics"]],
            "status": "alarm" if alarms else "healthy",
            "signals": {name: _trend(values, described[name]) for name, values in series.items()},
            "alarms": alarms}


def signal_descriptions(choices: list, registry) -> dict:
    """{signal: meaning} of the run's diagnostics, from their classes (a plugin's must be installed)."""
    from ..plugins import get_registry

    registry = registry or get_registry()
    described = {}
    for item in choices:
        if registry.has("diagnostic", item["name"]):
            described.update(registry.get("diagnostic", item["name"]).cls.signals)
    return described


def _trend(values: list, meaning: str) -> dict:
    picks = sorted({round(i * (len(values) - 1) / (POINTS - 1)) for i in range(POINTS)}) if len(values) > 1 else [0]
    numbers = [v for _, v in values]
    return {"meaning": meaning, "computed": len(values), "first": list(values[0]), "last": list(values[-1]),
            "min": min(numbers), "max": max(numbers), "over_time": [list(values[i]) for i in picks]}


def format_summary(summary: dict) -> str:
    """The text of ``gancli diagnose``: a line per signal over time, then the alarms with their advice."""
    lines = [f"{summary['run']}: step {summary['step']} of {summary['steps']}, "
             f"{'ALARM' if summary['alarms'] else 'no alarm'} ({', '.join(summary['diagnostics'])})", ""]
    width = max(len(name) for name in summary["signals"])
    for name, trend in summary["signals"].items():
        path = "  ".join(f"{value:.3g}@{step}" for step, value in trend["over_time"])
        lines.append(f"  {name:<{width}}  {path}")
        lines.append(f"  {'':<{width}}  {trend['meaning']}")
    lines.append("")
    if not summary["alarms"]:
        lines.append("No alarm fired: no signal crossed its threshold for its patience (docs/diagnostics.md).")
    for event in summary["alarms"]:
        lines.append(f"step {event['step']}: {event['kind'].replace('-', ' ').upper()} — {event['says']}")
        lines.append(f"  because {event['condition']} (since step {event['since']})")
        lines.append(f"  try: {event['advice']}")
    return "\n".join(lines)
