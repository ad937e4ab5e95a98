"""Alarms: a diagnostic's threshold held for a patience fires once, saying what is happening and what to try.

The book keeps, per alarm, the step its condition started holding, and per kind of failure the step it fired;
both go into checkpoints, so a resumed run counts the patience on and never fires an alarm twice.
"""

from __future__ import annotations

from ..errors import GancliError


class AlarmStop(GancliError):
    """``--on-collapse stop``: an alarm fired; the trainer wrote a checkpoint at ``step`` and stops."""

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class AlarmBook:
    """The alarms of a run's diagnostics, as ``(diagnostic name, gancli.Alarm)`` pairs, and their state."""

    def __init__(self, alarms: list):
        self.alarms = alarms
        self.latest: dict = {}  # the newest value of every signal, for alarms over signals of several diagnostics
        self.since: dict = {}  # alarm key -> the step its condition started holding
        self.fired: dict = {}  # kind -> the step it fired

    @staticmethod
    def key(diagnostic: str, alarm) -> str:
        return f"{diagnostic}:{alarm.kind}:{alarm.describe()}"

    def update(self, step: int, signals: dict) -> list:
        """Take this step's new signals; return the events of the alarms that fire now (JSON-ready dicts)."""
        self.latest.update(signals)
        events = []
        for diagnostic, alarm in self.alarms:
            names = {name for name, _, _ in alarm.when}
            if not names & signals.keys():
                continue  # none of its signals was computed now: nothing new to judge
            key = self.key(diagnostic, alarm)
            holds = alarm.holds(self.latest)
            if holds is None:
                continue
            if not holds:
                self.since.pop(key, None)
                continue
            start = self.since.setdefault(key, step)
            if alarm.kind in self.fired or step < alarm.after or step - start < alarm.patience:
                continue
            self.fired[alarm.kind] = step
            events.append({"step": step, "kind": alarm.kind, "diagnostic": diagnostic, "condition": alarm.describe(),
                           "since": start, "says": alarm.says, "advice": alarm.advice,
                           "signals": {name: self.latest[name] for name in sorted(names)}})
        return events

    def state(self) -> dict:
        return {"latest": dict(self.latest), "since": dict(self.since), "fired": dict(self.fired)}

    def load_state(self, state: dict) -> None:
        self.latest = dict(state.get("latest", {}))
        self.since = {k: int(v) for k, v in state.get("since", {}).items()}
        self.fired = {k: int(v) for k, v in state.get("fired", {}).items()}


def message(event: dict) -> str:
    """What the progress output says when an alarm fires."""
    return (f"alarm at step {event['step']}: {event['kind'].replace('-', ' ')}: {event['says']} "
            f"[{event['condition']}, since step {event['since']}]. Try: {event['advice']}")


def stop_message(event: dict, run_dir: str) -> str:
    """The one line of ``--on-collapse stop``."""
    return (f"training stopped at step {event['step']} (--on-collapse stop): {event['kind'].replace('-', ' ')}: "
            f"{event['says']} A checkpoint is saved. Try: {event['advice']} Or go on regardless: gancli train "
            f"--resume {run_dir} --on-collapse continue")
