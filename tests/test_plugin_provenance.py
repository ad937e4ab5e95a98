"""A run or checkpoint made with a plugin's component records the plugin, package and version; opening it
without the plugin says which package to install."""

import pytest

from gancli.default_plugins.architectures import MLPArchitecture
from gancli.engine.checkpoint import read_meta
from gancli.plugins import reset_registry
from helpers import TINY, one_line_error, run
from test_registry import TinyLoss, plugin_module


class TinyMLPArchitecture(MLPArchitecture):
    """The built-in MLP under a plugin's name."""


@pytest.fixture
def tiny_package(monkeypatch):
    """An installed package gancli-tiny 0.3 whose entry point registers a loss and an architecture;
    ``uninstall()`` removes it again."""

    class Dist:
        name, version = "gancli-tiny", "0.3"

    class EntryPoint:
        name, dist = "tiny", Dist()

        def load(self):
            return plugin_module(register_losses=lambda register: register("tiny", TinyLoss),
                                 register_architectures=lambda register: register("tiny-mlp", TinyMLPArchitecture))

    installed = [EntryPoint()]
    monkeypatch.delenv("GANCLI_NO_PLUGINS")
    monkeypatch.setattr("gancli.plugins.metadata.entry_points",
                        lambda group: list(installed) if group == "gancli" else [])
    reset_registry()

    def uninstall():
        installed.clear()
        reset_registry()

    return uninstall


def train(out, *args):
    result = run("train", "--steps", 2, "--out", out, *TINY, *args)
    assert result.exit_code == 0, result.output
    return out


def test_checkpoint_records_each_plugin_component_and_its_package(tmp_path, tiny_package):
    out = train(tmp_path / "run", "--loss", "tiny", "--arch", "tiny-mlp")
    meta = read_meta(str(out / "generator.safetensors"))
    for key, name in (("loss", "tiny"), ("arch", "tiny-mlp")):
        assert meta[key]["name"] == name
        assert (meta[key]["plugin"], meta[key]["distribution"], meta[key]["version"]) == ("tiny", "gancli-tiny", "0.3")
    assert meta["lipschitz"] == [] and meta["data"]["distribution"] == "gancli"


def test_resuming_without_the_plugin_names_the_package_to_install(tmp_path, tiny_package):
    out = train(tmp_path / "run", "--loss", "tiny")
    tiny_package()
    one_line_error(run("train", "--resume", out, "--steps", 3),
                   "loss 'tiny' (from plugin tiny, version 0.3) is not installed: pip install gancli-tiny")


def test_sampling_without_the_plugin_names_the_package_to_install(tmp_path, tiny_package):
    out = train(tmp_path / "run", "--arch", "tiny-mlp")
    tiny_package()
    one_line_error(run("sample", out, "-n", 4, "-o", tmp_path / "grid.png"),
                   "architecture 'tiny-mlp' (from plugin tiny, version 0.3) is not installed: pip install gancli-tiny")


def test_a_one_file_plugin_is_named_with_the_way_to_load_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCLI_PLUGINS_DIR", "")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "quick.py").write_text(
        "import gancli\nfrom test_registry import TinyLoss\n\n\n@gancli.hookimpl\n"
        "def register_losses(register):\n    register('quick', TinyLoss)\n")
    result = run("--plugins-dir", folder, "train", "--loss", "quick", "--steps", 2, "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("GANCLI_PLUGINS_DIR", "")
    reset_registry()
    one_line_error(run("train", "--resume", tmp_path / "run", "--steps", 3),
                   "loss 'quick' (from plugin quick, version None) is not installed; it came from the one-file "
                   "plugin quick.py: load it with gancli --plugins-dir FOLDER")
