"""docs/plugins/ cannot drift: the tutorial is the example package, the interfaces page covers every member,
and every link resolves."""

import dataclasses
import re
from pathlib import Path

import pytest

import gancli
from gancli import components
from gancli.registry import KINDS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins"
EXAMPLE = ROOT / "plugins" / "gancli-ragan"
# **`NAME`** ([in the repository](../../plugins/PATH)):  then a fenced block with the file's whole text
SHOWN_FILE = re.compile(r"\*\*`([^`]+)`\*\* \(\[in the repository\]\(\.\./\.\./(plugins/[^)]+)\)\):\n\n"
                        r"```\w*\n(.*?)```", re.S)


def test_tutorial_shows_the_example_package_file_for_file():
    shown = {repo_path: code for _, repo_path, code in SHOWN_FILE.findall((DOCS / "tutorial.md").read_text())}
    package = {str(p.relative_to(ROOT)) for p in EXAMPLE.rglob("*")
               if p.is_file() and p.suffix in (".py", ".toml") and "__pycache__" not in p.parts}
    assert set(shown) == package, "the tutorial must show every source file of plugins/gancli-ragan"
    for repo_path, code in shown.items():
        assert code == (ROOT / repo_path).read_text(), f"the tutorial's {repo_path} differs from the file"


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\b.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/plugins/interfaces.md has no section '## {title}'"
    return match.group(1)


def public_members(cls) -> list:
    return [name for name in vars(cls) if not name.startswith("_")]


@pytest.mark.parametrize("kind", list(KINDS))
def test_interfaces_page_mentions_every_member_of_every_interface(kind):
    interface = KINDS[kind][1]
    body = section((DOCS / "interfaces.md").read_text(), f"gancli.{interface.__name__}")
    missing = [name for name in public_members(interface) if f"`{name}" not in body]
    assert not missing, f"docs/plugins/interfaces.md, gancli.{interface.__name__}: document {missing}"


@pytest.mark.parametrize("cls", [getattr(gancli, name) for name in gancli.__all__
                                 if dataclasses.is_dataclass(getattr(gancli, name))])
def test_interfaces_page_mentions_every_field_of_the_data_classes(cls):
    text = (DOCS / "interfaces.md").read_text()
    body = section(text, next(t for t in re.findall(r"^## (.*)$", text, re.M) if f"gancli.{cls.__name__}" in t))
    missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in body]
    assert not missing, f"docs/plugins/interfaces.md, gancli.{cls.__name__}: document {missing}"


def test_interfaces_page_covers_the_component_base_and_the_public_api():
    text = (DOCS / "interfaces.md").read_text()
    base = section(text, "Component")
    assert all(f"`{name}" in base for name in public_members(components.Component))
    unescaped = text.replace("\\", "")
    missing = [name for name in gancli.__all__ if f"gancli.{name}" not in unescaped]
    assert not missing, f"docs/plugins/interfaces.md does not mention {missing}"


def anchors(path: Path) -> set:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.*)$", path.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_link_resolves(page):
    path = DOCS / page
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        assert resolved.exists(), f"{page}: link {target} points to nothing"
        if anchor:
            assert anchor in anchors(resolved), f"{page}: link {target} names no heading of {resolved.name}"
