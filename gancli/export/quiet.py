"""Keep the exporters' chatter (deprecation warnings, log lines, progress prints) away from the user.

Faithfulness is checked by verification, not by reading exporter logs; real failures still raise.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

_LOGGERS = ("torch", "onnxscript", "onnx_ir")


@contextlib.contextmanager
def quiet():
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def first_line(exc: Exception) -> str:
    """The part of an exporter's (often pages-long) error that fits in a one-line message."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
