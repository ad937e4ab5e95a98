"""The registry the API works with: loaded once, broken plugins reported on stderr without stopping the call."""

from __future__ import annotations

import sys


def registry_for_command():
    """The plugin registry, with one warning line per plugin that failed to load (the others keep working)."""
    from ..plugins import get_registry, plugin_problems

    registry = get_registry()
    for line in plugin_problems(registry):
        print(f"Warning: {line}", file=sys.stderr)
    return registry
