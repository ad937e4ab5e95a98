"""A rich progress bar for training (drawn only on a terminal; plain lines otherwise)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..engine.trainer import Reporter


class RichReporter(Reporter):
    def __init__(self):
        self.console = Console(stderr=True)
        self.progress = None
        self.task = None

    def start(self, total: int, step: int) -> None:
        if not self.console.is_terminal:
            click.echo(f"training from step {step} to {total}", err=True)
            return
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("train", total=total, completed=step, stats="")
        self.progress.start()

    def update(self, step: int, record: dict | None) -> None:
        if self.progress is None:
            return
        stats = ""
        if record:
            stats = f"D {record['d_loss']:.3f} G {record['g_loss']:.3f} {record['images_per_s']:.0f} img/s"
        self.progress.update(self.task, completed=step, stats=stats)

    def message(self, text: str) -> None:
        (self.progress.console if self.progress else self.console).print(text, highlight=False, markup=False)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
