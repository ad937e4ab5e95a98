"""The command line of a generated docs page (``python -m gancli.cli.docgen``, ``python -m gancli.api.docgen``):
print the page, or ``--write`` it where the docs keep it."""

from __future__ import annotations

import sys
from pathlib import Path


def page_main(render, page: Path, usage: str, argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv == ["--write"]:
        page.write_text(text)
        print(f"wrote {page}")
    elif not argv:
        sys.stdout.write(text)
    else:
        print(usage.strip(), file=sys.stderr)
        return 2
    return 0
