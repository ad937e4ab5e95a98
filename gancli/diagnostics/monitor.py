"""The trainer's side of diagnostics: which ones run, at which steps, their signals, alarms and saved state.

Rank 0 computes (under torchrun the other processes only learn whether to stop); each signal goes into the
metrics record of its step, or a line of its own at a step that logs nothing else.
"""

from __future__ import annotations

import json
import os

import torch

from ..default_plugins.loggers import truncate_jsonl
from . import ALARMS
from .alarms import AlarmBook, AlarmStop, message, stop_message
from .context import Context


class Monitor:
    """The run's diagnostics (those of ``plan.diagnostics`` that apply to its data), built before training."""

    def __init__(self, trainer):
        self.context = context = Context(trainer)
        self.trainer, self.world = trainer, trainer.world
        self.path = os.path.join(trainer.run_dir, ALARMS)
        self.active, self.skipped = [], []
        for choice in trainer.plan.diagnostics:
            diagnostic = choice.build()
            if context.spec.kind not in diagnostic.data_kinds:
                reason = f"it handles {', '.join(diagnostic.data_kinds)} data"
            else:
                reason = diagnostic.applies(context)
            if reason:
                self.skipped.append((choice.entry.name, reason))
            else:
                self.active.append((choice.entry.name, diagnostic))
        if self.world.is_main:
            for _, diagnostic in self.active:
                diagnostic.setup(context)
        self.book = AlarmBook([(name, alarm) for name, d in self.active for alarm in d.alarms(context)])
        self.shown: dict = {}  # the newest value of each signal the progress bar shows
        self.stop_event = None  # the alarm --on-collapse stop stops on

    def interval(self, diagnostic) -> int:
        return self.context.config.diagnostics_every or diagnostic.interval

    def due(self, step: int) -> bool:
        return any(d.due(step, self.interval(d)) for _, d in self.active)

    def notes(self) -> list:
        """Lines for the start of training: what runs, and what is left out and why."""
        if not self.active and not self.skipped:
            return []
        lines = [f"diagnostics: {', '.join(name for name, _ in self.active) or 'none apply'}"]
        lines += [f"diagnostic {name} left out: {reason}" for name, reason in self.skipped]
        return lines

    def observe(self, step: int, values: torch.Tensor, outputs: dict) -> dict:
        """The signals due at ``step`` ({} on other ranks); raises AlarmStop under --on-collapse stop once the
        trainer has saved (see :meth:`stopping`)."""
        from ..engine.health import LOGGED

        context, signals, events = self.context, {}, []
        if self.world.is_main:
            context.step, context.outputs = step, outputs
            context.losses = dict(zip(LOGGED, values.tolist()))
            with torch.no_grad():
                for name, diagnostic in self.active:
                    if diagnostic.due(step, self.interval(diagnostic)):
                        context.interval = self.interval(diagnostic)
                        signals.update({k: round(float(v), 6) for k, v in diagnostic.compute(context).items()})
            events = self.book.update(step, signals)
            for event in events:
                with open(self.path, "a") as fh:
                    fh.write(json.dumps(event) + "\n")
                self.trainer.reporter.message(message(event))
            for _, diagnostic in self.active:
                self.shown.update({k: signals[k] for k in diagnostic.progress if k in signals})
        self.stop_event = self._agreed_stop(events)
        return signals

    def _agreed_stop(self, events: list):
        """The event to stop on under --on-collapse stop, the same answer on every process."""
        wanted = bool(events) and self.context.config.on_collapse == "stop"
        if self.world.active:
            flag = torch.tensor([float(wanted)], device=self.trainer.device)
            wanted = bool(self.world.sum_(flag).item())
        if not wanted:
            return None
        return events[0] if events else {"step": self.context.step, "kind": "alarm", "says": "an alarm fired on "
                                         "rank 0.", "advice": "see its output."}

    def stop(self) -> None:
        """After the checkpoint of the stopping step: the one-line error of --on-collapse stop."""
        event = self.stop_event
        raise AlarmStop(stop_message(event, self.trainer.run_dir), event["step"])

    def progress(self) -> str:
        """The signals of the progress bar: 'div 0.91 sat 0.02'."""
        labels = {k: label for _, d in self.active for k, label in d.progress.items()}
        return " ".join(f"{labels[k]} {v:.2f}" for k, v in self.shown.items())

    # ---- checkpoints --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"signals": {name: d.state() for name, d in self.active}, "alarms": self.book.state(),
                "shown": dict(self.shown)}

    def load_state(self, state: dict | None, step: int) -> None:
        """Continue from a checkpoint's state (None: one from before diagnostics, which start afresh), and drop
        the alarms logged after ``step``, which the continued run may fire again."""
        state = state or {}
        saved = state.get("signals")
        if saved is not None:  # those that did not run before (a classifier cached since) stay off: exactness
            self.active = [(name, d) for name, d in self.active if name in saved]
        if not self.world.is_main:
            return  # only rank 0 computes
        for name, diagnostic in self.active:
            diagnostic.load_state((saved or {}).get(name, {}))
        self.book.load_state(state.get("alarms", {}))
        self.shown = dict(state.get("shown", {}))
        truncate_jsonl(self.path, step)
