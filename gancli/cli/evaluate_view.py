"""How `gancli evaluate` talks: messages and a progress bar on stderr, the result as a rich table."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

# How each figure reads: which direction is better (None: neither) and what it is.
MEANING = {
    "fid": ("lower", "Fréchet distance of feature Gaussians"),
    "kid": ("lower", "kernel distance (unbiased MMD^2)"),
    "kid_std": (None, "KID's std over subsets"),
    "precision": ("higher", "fakes on the real manifold"),
    "recall": ("higher", "reals on the fake manifold"),
    "density": ("higher", "about 1 for the same distribution"),
    "coverage": ("higher", "real neighbourhoods holding a fake"),
    "class_accuracy": ("higher", "samples of the class asked for"),
    "modes": ("higher", "distinct modes seen"),
    "kl": ("lower", "KL(mode histogram || uniform)"),
    "kl_parts": ("lower", "part of kl: each channel's digits against uniform, summed"),
    "kl_dependence": ("lower", "part of kl: dependence between channels (total correlation)"),
    "hq_percent": ("higher", "high-quality points, %"),
    "checkerboard": ("lower", "spectral energy at stride-2 aliasing frequencies"),
}


class Feedback:
    """Messages on stderr; a progress bar for classifier training when stderr is a terminal."""

    def __init__(self):
        self.console = Console(stderr=True)
        self.bar = None
        self.task = None

    def say(self, text: str) -> None:
        (self.bar.console if self.bar else self.console).print(text, highlight=False, markup=False)

    def progress(self, label: str, done: int, total: int) -> None:
        if not self.console.is_terminal:
            return
        if self.bar is None:
            self.bar = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=self.console)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def format_number(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.4f}".rstrip("0").rstrip(".")


def print_result(result: dict) -> None:
    console = Console()
    generator, data, samples = result["generator"], result["data"], result["samples"]
    options = ", ".join(f"{k}={v}" for k, v in data["options"].items())
    table = Table(title=f"{generator['description']}", title_justify="left", show_edge=False)
    for column, justify in (("metric", "left"), ("value", "right"), ("floor", "right"), ("better", "left"),
                            ("what it is", "left")):
        table.add_column(column, justify=justify)
    for key, value in result["values"].items():
        better, meaning = MEANING.get(key.rpartition(".")[2], (None, ""))
        table.add_row(key, format_number(value), format_number(result["floors"].get(key)), better or "", meaning)
    console.print(table)
    console.print(f"data: {data['name']}({options}), {data['real_samples']} real samples split in two halves; "
                  f"generated {samples['generated']}, floor {samples['floor']} real"
                  + (f", features of {samples['features']} per side" if samples.get("features") else ""),
                  highlight=False, markup=False)
    for role in ("extractor", "classifier"):
        if role in result and (role == "extractor" or result[role] != result.get("extractor")):
            console.print(f"{role}: {result[role]['name']}", highlight=False, markup=False)
    click.echo()
