"""The example plugins in plugins/: complete packages, installed and tested by CI, using the public API only."""

import re
import shlex
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
GANCLI_IMPORT = re.compile(r"^\s*(?:from|import)\s+(gancli(?:\.\w+)*)(?=[\s,]|$)", re.M)
PACKAGES = sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir() and (p / "pyproject.toml").exists())


def test_there_are_loss_enforcer_and_data_or_architecture_examples():
    hooks = " ".join(p.read_text() for package in PACKAGES for p in package.rglob("*.py") if "tests" not in p.parts)
    for hook in ("register_losses", "register_lipschitz"):
        assert f"def {hook}(" in hooks
    assert "def register_datasets(" in hooks or "def register_architectures(" in hooks


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_package_is_complete(package):
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["name"] == package.name and "gancli" in project["dependencies"]
    assert project["entry-points"]["gancli"], "announce the plugin in [project.entry-points.gancli]"
    assert (package / project["readme"]).exists()
    tests = list((package / "tests").glob("test_*.py"))
    assert tests and all(t.name.startswith("test_" + package.name.replace("-", "_")) for t in tests), \
        "name test files test_<package>*.py: pytest imports every plugin's tests in one session"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_each_package_uses_only_the_public_api(package):
    for path in package.rglob("*.py"):
        allowed = {"gancli", "gancli.testing"} if "tests" in path.parts else {"gancli"}
        private = [name for name in GANCLI_IMPORT.findall(path.read_text()) if name not in allowed]
        assert not private, f"{path.relative_to(ROOT)} imports {private}; plugins use `gancli` (and their tests " \
                            "`gancli.testing`) only"


def install_and_test_commands(text: str) -> list:
    """The shell commands of a script or a one-line `a && b && c`, without set/cd/comments."""
    commands = []
    for line in text.splitlines():
        for command in line.split(" && "):
            command = command.strip()
            if command and not command.startswith(("#", "set ", "cd ")):
                commands.append(command)
    return commands


def test_readme_test_command_is_what_ci_runs_and_installs_every_plugin():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", readme, re.S)
    readme_commands = install_and_test_commands(blocks[1])  # the second command at the top: the tests
    ci_commands = install_and_test_commands((ROOT / ".ci" / "run").read_text().split("\n", 1)[1])
    assert readme_commands == ci_commands
    install = next(shlex.split(c) for c in ci_commands if " install " in c)
    editable = {install[i + 1] for i, word in enumerate(install) if word == "-e"}
    assert editable == {".[test]"} | {f"plugins/{p.name}" for p in PACKAGES}
    assert ci_commands[-1] == ".venv/bin/python -m pytest -q"


def test_pytest_collects_the_plugins_tests():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["testpaths"] == ["tests", "plugins"]
