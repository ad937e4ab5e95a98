"""Small pretrained runs shipped with gancli, addressed as ``pretrained:NAME`` wherever a run is accepted.

Each is an ordinary run directory (run.json, generator.safetensors, directions.safetensors, and the
attribute classifier its directions were fitted with), loaded by the same code as any run; it is small
because the generator is narrow and the folder holds no training state. ``python -m
gancli.pretrained.build NAME`` rebuilds one.
"""

from __future__ import annotations

import os

from ..errors import GancliError, did_you_mean

PREFIX = "pretrained:"
ROOT = os.path.dirname(os.path.abspath(__file__))


def available() -> list[str]:
    """Names of the shipped runs."""
    return sorted(name for name in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, name, "run.json")))


def is_pretrained(target: str) -> bool:
    return isinstance(target, str) and target.startswith(PREFIX)


def pretrained_path(target: str) -> str:
    """The folder of ``pretrained:NAME``; an unknown name lists the shipped ones."""
    name = target[len(PREFIX):]
    names = available()
    if name not in names:
        raise GancliError(f"unknown pretrained model {name!r}{did_you_mean(name, names)}; shipped: "
                          f"{', '.join(PREFIX + n for n in names) or 'none'}")
    return os.path.join(ROOT, name)
