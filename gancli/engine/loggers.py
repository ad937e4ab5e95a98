"""The run's loggers as the trainer sees them: one object that hands every call to each logger in turn.

A logger is a guest in the training loop. One that cannot start stops the run before it trains (and before
run.json is written, so --out stays free); one that fails later is reported once and dropped, and training,
its checkpoints and the other loggers go on: a tracking server going away must not cost a run.
"""

from __future__ import annotations

import importlib.util

from ..errors import GancliError


def check_requirements(choices) -> None:
    """Refuse, before anything is written, a logger whose package is not installed, naming what to install."""
    for choice in choices:
        for module, install in choice.entry.cls.requires.items():
            if not _installed(module):
                raise GancliError(f'logger "{choice.entry.name}" needs the Python package {module}, which is not '
                                  f"installed: pip install '{install}'")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module entry set to None
        return False


class LoggerSet:
    """The loggers of one run on rank 0 (other ranks get an empty set), in the order the plan names them."""

    def __init__(self, choices, reporter):
        self.reporter = reporter
        self._pending = [(choice.entry.name, choice.build()) for choice in choices]
        self._active: list = []

    @property
    def names(self) -> list:
        return [name for name, _ in self._active]

    def start(self, run_dir: str, config: dict, step: int) -> None:
        """Start every logger; one that raises closes those already started and stops the run with one line."""
        for name, logger in self._pending:
            try:
                logger.start(run_dir, config, step)
            except Exception as exc:
                self.finish()
                raise GancliError(f'logger "{name}" could not start: {_describe(exc)}') from None
            self._active.append((name, logger))
        self._pending = []

    def log_scalars(self, step: int, values: dict) -> None:
        self._each("log_scalars", step, step, values)

    def log_images(self, step: int, name: str, path: str) -> None:
        self._each("log_images", step, step, name, path)

    def log_artifact(self, step: int, path: str) -> None:
        self._each("log_artifact", step, path)

    def rewind(self, step: int) -> None:
        self._each("rewind", step, step)

    def finish(self) -> None:
        """Close every started logger (always called, last); a failure to close is reported, not raised."""
        active, self._active = self._active, []
        for name, logger in active:
            try:
                logger.finish()
            except Exception as exc:
                self.reporter.message(f'logger "{name}" failed to finish: {_describe(exc)}')

    def _each(self, method: str, step: int, *args) -> None:
        for name, logger in list(self._active):
            try:
                getattr(logger, method)(*args)
            except Exception as exc:
                self._active.remove((name, logger))
                self.reporter.message(f'logger "{name}" failed in {method} at step {step} ({_describe(exc)}); '
                                      "training goes on without it")
                try:
                    logger.finish()
                except Exception:
                    pass  # already reported as failed


def _describe(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
