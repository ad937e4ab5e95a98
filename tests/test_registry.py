import types

import pytest

import gancli
from gancli.errors import GancliError
from gancli.plugins import build_registry


class TinyLoss(gancli.Loss):
    """A loss from a fake plugin."""

    class Options(gancli.Options):
        margin: float = gancli.field(1.0, help="margin")

    def discriminator_loss(self, real_out, fake_out):
        return (fake_out - real_out).mean()

    def generator_loss(self, fake_out, real_out=None):
        return -fake_out.mean()


def plugin_module(**hooks):
    module = types.SimpleNamespace()
    for name, fn in hooks.items():
        setattr(module, name, gancli.hookimpl(fn))
    return module


def test_builtins_are_registered_through_hooks():
    registry = build_registry(third_party=False)
    assert {e.name for e in registry.entries("loss")} >= {"bce", "wgan", "wgan-gp"}
    assert {e.name for e in registry.entries("lipschitz")} >= {"gradient-penalty", "weight-clip"}
    assert {e.name for e in registry.entries("architecture")} >= {"mlp", "dcgan"}
    assert {e.name for e in registry.entries("dataset")} >= {"digits", "ring", "grid", "folder", "mnist"}
    entry = registry.get("loss", "bce")
    assert entry.plugin.builtin and entry.plugin.distribution == "gancli"
    assert "register_losses" in entry.plugin.hooks


def test_fake_plugin_registers_with_alias_and_provenance():
    def register_losses(register):
        register("tiny", TinyLoss, aliases=("tn",))

    registry = build_registry(extra_plugins=[("tiny-plugin", plugin_module(register_losses=register_losses))],
                              third_party=False)
    entry = registry.get("loss", "tn")
    assert entry.name == "tiny" and entry.cls is TinyLoss
    assert entry.plugin.name == "tiny-plugin" and entry.description == "A loss from a fake plugin."
    assert ("loss", "tiny") in entry.plugin.components


def test_unknown_name_suggests_and_lists():
    registry = build_registry(third_party=False)
    with pytest.raises(GancliError, match=r'did you mean "wgan-gp"\?\); available: bce, bce-minimax, hinge, lsgan, rpgan, wgan, wgan-gp'):
        registry.get("loss", "wgan_gp")


def test_taken_name_is_reported_naming_both_plugins_and_others_keep_working():
    def register_losses(register):
        register("bce", TinyLoss)
        register("fresh", TinyLoss)

    registry = build_registry(extra_plugins=[("clash", plugin_module(register_losses=register_losses))],
                              third_party=False)
    clash = next(p for p in registry.plugins if p.name == "clash")
    assert any("already registered by plugin gancli.default_plugins.losses" in e for e in clash.errors)
    assert registry.get("loss", "bce").cls is not TinyLoss
    assert registry.get("loss", "fresh").cls is TinyLoss


def test_plugin_whose_hook_raises_is_reported():
    def register_losses(register):
        raise RuntimeError("boom")

    registry = build_registry(extra_plugins=[("broken", plugin_module(register_losses=register_losses))],
                              third_party=False)
    broken = next(p for p in registry.plugins if p.name == "broken")
    assert broken.errors == ["register_losses raised RuntimeError: boom"]
    assert registry.get("loss", "bce")


def test_wrong_class_kind_is_refused():
    def register_losses(register):
        register("not-a-loss", dict)

    registry = build_registry(extra_plugins=[("odd", plugin_module(register_losses=register_losses))],
                              third_party=False)
    odd = next(p for p in registry.plugins if p.name == "odd")
    assert "must be a subclass of gancli.Loss" in odd.errors[0]


def test_entry_point_plugins_load_and_failures_are_isolated(monkeypatch):
    class FakeDist:
        name, version = "gancli-tiny", "0.3"

    def register_losses(register):
        register("tiny", TinyLoss)

    good_module = plugin_module(register_losses=register_losses)

    class EP:
        def __init__(self, name, loader):
            self.name, self._loader, self.dist = name, loader, FakeDist()

        def load(self):
            return self._loader()

    def fail():
        raise ImportError("no module named torchvision")

    eps = [EP("tiny", lambda: good_module), EP("bad", fail)]
    monkeypatch.delenv("GANCLI_NO_PLUGINS")
    monkeypatch.setattr("gancli.plugins.metadata.entry_points", lambda group: eps if group == "gancli" else [])
    registry = build_registry()
    entry = registry.get("loss", "tiny")
    assert entry.provenance() == {"plugin": "tiny", "distribution": "gancli-tiny", "version": "0.3"}
    bad = next(p for p in registry.plugins if p.name == "bad")
    assert bad.errors == ["failed to load: ImportError: no module named torchvision"]

    monkeypatch.setenv("GANCLI_NO_PLUGINS", "1")
    assert not build_registry().has("loss", "tiny")


def test_importing_gancli_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, gancli; gancli.get_registry(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
