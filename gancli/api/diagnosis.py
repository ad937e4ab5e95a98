"""gancli.diagnose: a run's health over time, its alarms and their advice (what `gancli diagnose` prints)."""

from __future__ import annotations

import os


def diagnose(run) -> dict:
    """The training diagnostics of ``run`` (a :class:`Run` or its folder), finished or still training.

    Returns ``{"run", "step", "steps", "diagnostics", "status": "healthy" | "alarm", "signals": {name: {"meaning",
    "computed", "first", "last", "min", "max", "over_time": [[step, value], ...]}}, "alarms": [...]}``; each alarm
    has ``step``, ``kind`` (mode-collapse, vanishing-gradients, overfitting), ``says``, ``condition`` and
    ``advice``. A folder that is no run, a run with no metrics yet, or one trained without diagnostics raises
    GancliError with one line saying what it can tell."""
    from ..diagnostics.summary import summarize

    return summarize(os.fspath(run))
