"""Loading plugins: one-file plugins from --plugins-dir, `gancli plugins`, and mistakes reported by name."""

import json
import textwrap

import pytest

from gancli.plugins import build_registry
from helpers import TINY, run

LOSS = '''
import gancli


class {cls}(gancli.Loss):
    """{doc}"""

    def discriminator_loss(self, real_out, fake_out):
        from torch.nn.functional import softplus

        return (softplus(-real_out).mean() + softplus(fake_out).mean()) / 2

    def generator_loss(self, fake_out, real_out=None):
        from torch.nn.functional import softplus

        return softplus(-fake_out).mean()
'''


def loss_file(folder, stem, name, hook="@gancli.hookimpl\ndef register_losses", extra=""):
    body = LOSS.format(cls="FileLoss", doc=f"A loss from {stem}.py.") + extra
    body += f"\n\n{hook}(register):\n    register({name!r}, FileLoss)\n"
    (folder / f"{stem}.py").write_text(body)


@pytest.fixture(autouse=True)
def no_plugin_dirs(monkeypatch):
    """--plugins-dir writes GANCLI_PLUGINS_DIR into the environment; give it back afterwards."""
    monkeypatch.setenv("GANCLI_PLUGINS_DIR", "")


def plugins_json(*args):
    result = run(*args, "plugins", "--json")
    assert result.exit_code == 0, result.output
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_plugins_dir_file_trains_and_its_file_is_recorded(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    loss_file(folder, "my_loss", "file-loss")
    result = run("--plugins-dir", folder, "train", "--loss", "file-loss", "--steps", 2, "--out", tmp_path / "r",
                 *TINY)
    assert result.exit_code == 0, result.output
    loss = json.loads((tmp_path / "r" / "run.json").read_text())["loss"]
    assert loss["name"] == "file-loss" and loss["plugin"] == "my_loss" and loss["file"] == "my_loss.py"


def test_plugins_dir_is_honoured_through_the_environment(tmp_path, monkeypatch):
    loss_file(tmp_path, "env_loss", "env-loss")
    monkeypatch.setenv("GANCLI_PLUGINS_DIR", str(tmp_path))
    listing = json.loads(run("list", "losses", "--json").stdout)["loss"]
    assert [item["plugin"] for item in listing if item["name"] == "env-loss"] == ["env_loss"]


def test_plugins_command_shows_file_hooks_and_components_even_with_installed_plugins_off(tmp_path):
    loss_file(tmp_path, "shown", "shown-loss")
    text = run("--plugins-dir", tmp_path, "plugins").output
    assert "installed third-party plugins are off (GANCLI_NO_PLUGINS is set)" in text
    assert f"shown  (file {tmp_path / 'shown.py'})" in text
    assert "hooks: register_losses" in text and "components: loss:shown-loss" in text
    shown = plugins_json("--plugins-dir", tmp_path)["shown"]
    assert shown["path"] == str(tmp_path / "shown.py") and shown["components"] == ["loss:shown-loss"]


def test_broken_and_clashing_plugins_are_reported_by_name_while_the_rest_work(tmp_path):
    loss_file(tmp_path, "good", "good-loss")
    loss_file(tmp_path, "clash", "bce")
    (tmp_path / "broken.py").write_text("import gancli\nimport a_module_that_is_not_installed\n")
    (tmp_path / "_helper.py").write_text("raise RuntimeError('files starting with _ are not plugins')\n")
    plugins = plugins_json("--plugins-dir", tmp_path)
    assert set(plugins) == {"good", "clash", "broken"}
    assert plugins["broken"]["errors"] == [
        "failed to load: ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"]
    assert plugins["clash"]["errors"] == [
        "plugin clash: loss name 'bce' is already registered by plugin gancli.default_plugins.losses"]
    assert not plugins["good"]["errors"]

    result = run("--plugins-dir", tmp_path, "list", "losses", "--json")
    assert result.exit_code == 0
    assert "Warning: plugin broken: failed to load: ModuleNotFoundError" in result.output
    assert "Warning: plugin clash: plugin clash: loss name 'bce' is already registered" in result.output
    listing = json.loads(result.stdout)["loss"]
    assert {"good-loss", "bce"} <= {item["name"] for item in listing}
    assert [item["plugin"] for item in listing if item["name"] == "bce"] == ["gancli.default_plugins.losses"]


def test_misspelt_and_undecorated_hooks_are_reported(tmp_path):
    loss_file(tmp_path, "typo", "typo-loss", hook="@gancli.hookimpl\ndef register_loss")
    loss_file(tmp_path, "bare", "bare-loss", hook="def register_losses")
    plugins = plugins_json("--plugins-dir", tmp_path)
    (typo,) = plugins["typo"]["errors"]
    assert typo.startswith('implements unknown hook register_loss (did you mean "register_losses"?); hooks: ')
    assert plugins["bare"]["errors"] == [
        "register_losses is not decorated with @gancli.hookimpl, so it is never called"]
    assert plugins["typo"]["components"] == [] and plugins["bare"]["components"] == []


def test_an_unreadable_option_schema_is_refused_at_registration(tmp_path):
    extra = textwrap.dedent('''
        class FileLoss(FileLoss):
            """A loss whose option is a list."""

            class Options(gancli.Options):
                sizes: list = gancli.field((1, 2), help="not a scalar")
    ''')
    loss_file(tmp_path, "listy", "listy-loss", extra=extra)
    (error,) = plugins_json("--plugins-dir", tmp_path)["listy"]["errors"]
    assert error.startswith("loss 'listy-loss': FileLoss.Options.sizes: options must be bool, int, float or str")


def test_a_missing_plugins_folder_is_a_usage_error_or_a_reported_problem(tmp_path, monkeypatch):
    result = run("--plugins-dir", tmp_path / "nowhere", "plugins")
    assert result.exit_code == 2 and "does not exist" in result.output
    monkeypatch.setenv("GANCLI_PLUGINS_DIR", str(tmp_path / "nowhere"))
    registry = build_registry()
    assert [p.errors for p in registry.plugins if p.name == str(tmp_path / "nowhere")] == [
        [f"plugins folder {tmp_path / 'nowhere'} does not exist"]]
    assert registry.has("loss", "bce")


def test_installed_plugin_is_shown_with_its_package_and_version(monkeypatch):
    from test_registry import TinyLoss, plugin_module

    class Dist:
        name, version = "gancli-tiny", "0.3"

    class EntryPoint:
        name, dist = "tiny", Dist()

        def load(self):
            return plugin_module(register_losses=lambda register: register("tiny", TinyLoss))

    monkeypatch.delenv("GANCLI_NO_PLUGINS")
    monkeypatch.setattr("gancli.plugins.metadata.entry_points",
                        lambda group: [EntryPoint()] if group == "gancli" else [])
    text = run("plugins").output
    assert "tiny  (gancli-tiny 0.3)\n  hooks: register_losses\n  components: loss:tiny\n" in text
    assert "are off" not in text
