"""check_logger: a logger takes every call the trainer makes, over a run and its resumption, and takes it quickly.

It cannot know where a logger writes (a tracking server, a folder of its own), so what was logged is for the
plugin's own tests to read back; this check holds the logger to the calls, their arguments and their cost.
"""

from __future__ import annotations

import inspect
import os
import statistics
import tempfile
import time

from ..components import Logger
from .common import ContractError, instantiate, require

# The calls the trainer makes, with the arguments it passes (names as the interface spells them).
CALLS = {"start": ("run_dir", "config", "step"), "log_scalars": ("step", "values"),
         "log_images": ("step", "name", "path"), "log_artifact": ("path",), "rewind": ("step",), "finish": ()}
FIGURES = {"d_loss": 0.69, "g_loss": 0.71, "d_real": 0.1, "d_fake": -0.1, "images_per_s": 2500.0, "elapsed_s": 1.5}
CONFIG = {"gancli_version": "0.1.0", "arch": {"name": "dcgan", "options": {"width": 4}, "plugin": "probe"},
          "loss": {"name": "bce", "options": {}}, "lipschitz": [], "steps": 4, "batch_size": 8, "seed": 0,
          "log": [{"name": "jsonl", "options": {}}]}


def check_logger(logger, options=None, *, max_call_seconds: float | None = 0.02) -> dict:
    """Check a :class:`gancli.Logger` class (built with ``options``, once per session as the trainer builds it).

    - ``requires`` maps module names to what to install, and each module can be imported here;
    - every method accepts the arguments the trainer passes, by position;
    - a run's session in a temporary run directory (start at step 0, figures, a sample grid, a roll-back, the
      generator file, finish) and a resumed session (a new instance, start at step 2, figures, finish) raise
      nothing;
    - ``log_scalars``, called every ``--log-every`` steps inside the training loop, takes at most
      ``max_call_seconds`` (median of 20 calls; ``None`` skips this): hand slow work to a thread.

    Returns ``{"seconds_per_log_scalars": median}``.
    """
    require(isinstance(logger, type), "check_logger takes the logger's class: it builds one per session, as the "
                                      "trainer does for a run and again when the run is resumed")
    instance, cls = instantiate(logger, Logger, options)
    name = cls.__name__
    _check_requires(cls)
    _check_signatures(cls)
    with tempfile.TemporaryDirectory(prefix="gancli-check-logger-") as run_dir:
        grid, generator = _files(run_dir)
        _call(instance, "start", run_dir, dict(CONFIG), 0)
        try:
            _call(instance, "log_scalars", 1, dict(FIGURES))
            _call(instance, "log_scalars", 2, dict(FIGURES))
            _call(instance, "log_images", 2, "samples", grid)
            _call(instance, "rewind", 1)
            seconds = []
            for step in range(2, 22):
                started = time.perf_counter()
                _call(instance, "log_scalars", step, dict(FIGURES))
                seconds.append(time.perf_counter() - started)
            _call(instance, "log_artifact", generator)
        finally:
            _call(instance, "finish")
        resumed, _ = instantiate(logger, Logger, options)
        _call(resumed, "start", run_dir, dict(CONFIG), 2)
        _call(resumed, "log_scalars", 3, dict(FIGURES))
        _call(resumed, "finish")
    median = statistics.median(seconds)
    if max_call_seconds is not None:
        require(median <= max_call_seconds,
                f"{name}.log_scalars took {median * 1000:.1f} ms a call (median of 20); it runs inside the training "
                f"loop, so keep it under {max_call_seconds * 1000:.0f} ms: queue the work for a background thread "
                "and wait for it in finish()")
    return {"seconds_per_log_scalars": median}


def _check_requires(cls) -> None:
    import importlib.util

    requires = cls.requires
    require(isinstance(requires, dict) and all(isinstance(k, str) and isinstance(v, str) and v
                                               for k, v in requires.items()),
            f"{cls.__name__}.requires must map module names to what to install, e.g. {{'mlflow': 'mlflow-skinny'}}")
    for module, install in requires.items():
        require(importlib.util.find_spec(module) is not None,
                f"{cls.__name__} requires {module}, which is not installed here: pip install '{install}'")


def _check_signatures(cls) -> None:
    for method, arguments in CALLS.items():
        try:
            inspect.signature(getattr(cls, method)).bind(None, *arguments)
        except TypeError as exc:
            raise ContractError(f"{cls.__name__}.{method} must accept ({', '.join(arguments)}), the arguments the "
                                f"trainer passes: {exc}") from None


def _call(logger, method: str, *args):
    try:
        return getattr(logger, method)(*args)
    except ContractError:
        raise
    except Exception as exc:
        raise ContractError(f"{type(logger).__name__}.{method}{_shown(args)} raised {type(exc).__name__}: "
                            f"{exc}") from exc


def _shown(args) -> str:
    return "(" + ", ".join("config" if isinstance(a, dict) and "arch" in a else repr(a) for a in args) + ")"


def _files(run_dir: str) -> tuple:
    """A sample grid (a small PNG) and a stand-in generator file, where the trainer would write them."""
    from PIL import Image

    os.makedirs(os.path.join(run_dir, "samples"))
    grid = os.path.join(run_dir, "samples", "step-00000002.png")
    Image.new("RGB", (18, 18), (40, 120, 200)).save(grid)
    generator = os.path.join(run_dir, "generator.safetensors")
    with open(generator, "wb") as fh:
        fh.write(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")  # an empty safetensors file
    return grid, generator
