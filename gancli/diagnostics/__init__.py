"""Training diagnostics: signals of a run's health computed while it trains, alarms with advice, and the summary
of ``gancli diagnose``.

- :mod:`.signals` — the arithmetic of each signal (pure functions of tensors).
- :mod:`.context` — :class:`~.context.Context`, what a diagnostic sees of the run.
- :mod:`.alarms` — thresholds held for a patience, fired once, and the advice said then.
- :mod:`.monitor` — the trainer's side: which diagnostics run, when, their state in checkpoints, alarms.jsonl.
- :mod:`.summary` — a run's health over time from its files (``gancli diagnose``).

The diagnostics themselves are components (``register_diagnostics``); the built-in ones live in
``gancli/default_plugins/diagnostics.py``.
"""

ALARMS = "alarms.jsonl"  # in the run directory: one line per alarm fired (no torch imported here: diagnose reads)
