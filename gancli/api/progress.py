"""How training shows its progress: a rich bar on a terminal, a line that updates itself in a notebook, plain
lines elsewhere, or nothing (``progress=False``). The trainer calls a :class:`~gancli.engine.trainer.Reporter`;
this module picks one."""

from __future__ import annotations

import sys

from ..engine.trainer import Reporter
from ..errors import GancliError

CHOICES = ("auto", "bar", "notebook", "lines", "none")


def reporter_for(progress) -> Reporter:
    """The reporter ``progress`` asks for: one of :data:`CHOICES`, True ("auto"), False or None ("none"), or a
    Reporter of your own."""
    if isinstance(progress, Reporter):
        return progress
    choice = {True: "auto", False: "none", None: "none"}.get(progress, progress)
    if choice not in CHOICES:
        raise GancliError(f"progress must be one of {', '.join(CHOICES)} (or True/False), got {progress!r}")
    if choice == "auto":
        choice = "notebook" if in_notebook() else "bar"
    return {"bar": RichReporter, "notebook": NotebookReporter, "lines": LineReporter, "none": Reporter}[choice]()


def in_notebook() -> bool:
    """Whether we run in a Jupyter kernel (where a terminal's control codes cannot redraw a line)."""
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except AttributeError:
        return False


def stats(record: dict | None) -> str:
    """The figures beside the bar: losses and speed of the last logged step, and the diagnostics' main signals."""
    if not record:
        return ""
    text = f"D {record['d_loss']:.3f} G {record['g_loss']:.3f} {record['images_per_s']:.0f} img/s"
    return text + (f" {record['diagnostics']}" if record.get("diagnostics") else "")  # the newest signals


class LineReporter(Reporter):
    """Plain lines on stderr: where training starts and what it says (for logs and pipes)."""

    def start(self, total: int, step: int) -> None:
        print(f"training from step {step} to {total}", file=sys.stderr)

    def message(self, text: str) -> None:
        print(text, file=sys.stderr)


class RichReporter(Reporter):
    """rich's progress bar on stderr when it is a terminal; plain lines otherwise."""

    def __init__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.progress = self.task = None

    def start(self, total: int, step: int) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        if not self.console.is_terminal:
            LineReporter().start(total, step)
            return
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("train", total=total, completed=step, stats="")
        self.progress.start()

    def update(self, step: int, record: dict | None) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=step, stats=stats(record))

    def message(self, text: str) -> None:
        (self.progress.console if self.progress else self.console).print(text, highlight=False, markup=False)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class NotebookReporter(Reporter):
    """One output line in a Jupyter cell, redrawn in place through IPython's display handles (no widgets
    needed), at most a few times a second."""

    WIDTH = 30

    def __init__(self):
        self.handle, self.total, self.first, self.shown = None, 0, 0, 0.0

    def start(self, total: int, step: int) -> None:
        from IPython.display import display

        self.total, self.first = total, step
        self.handle = display(self._text(step, None), display_id=True)

    def update(self, step: int, record: dict | None) -> None:
        import time

        now = time.monotonic()
        if self.handle is not None and (now - self.shown > 0.2 or step >= self.total):
            self.shown = now
            self.handle.update(self._text(step, record))

    def message(self, text: str) -> None:
        print(text)

    def _text(self, step: int, record):
        from IPython.display import Pretty

        done = step / self.total if self.total else 1.0
        bar = "━" * round(done * self.WIDTH) + "─" * (self.WIDTH - round(done * self.WIDTH))
        return Pretty(f"train {bar} {step}/{self.total} {stats(record)}")
