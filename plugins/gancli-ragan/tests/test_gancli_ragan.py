"""gancli-ragan's tests: the contract checks, the paper's formulas, and training through the installed plugin."""

import json

import pytest
import torch

import gancli.testing
import gancli_ragan

TINY = ["--steps", 2, "--batch-size", 8, "--data-opt", "size=16", "--arch-opt", "width=4", "--log-every", 1]


def test_plugin_passes_the_contract_checks():
    plugin = gancli.testing.check_plugin(gancli_ragan)
    assert plugin.components == [("loss", "ragan")]


@pytest.mark.parametrize("form", ["bce", "lsgan", "hinge"])
def test_every_form_passes_the_loss_checks(form):
    gancli.testing.check_loss(gancli_ragan.RelativisticAverageLoss, {"form": form})


def test_bce_form_matches_the_paper():
    real, fake = torch.tensor([0.5, 2.0, -1.0]), torch.tensor([-0.3, 0.1, 1.2])
    loss = gancli_ragan.RelativisticAverageLoss(form="bce")
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    d = (bce(real - fake.mean(), torch.ones(3)) + bce(fake - real.mean(), torch.zeros(3))) / 2
    g = (bce(fake - real.mean(), torch.ones(3)) + bce(real - fake.mean(), torch.zeros(3))) / 2
    assert torch.allclose(loss.discriminator_loss(real, fake), d)
    assert torch.allclose(loss.generator_loss(fake, real), g)


def test_trains_from_the_command_line(tmp_path):
    with gancli.testing.use_plugin(gancli_ragan):
        result = gancli.testing.run_cli("train", "--loss", "relativistic", "--loss-opt", "form=hinge",
                                        "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.output
    loss = json.loads((tmp_path / "run" / "run.json").read_text())["loss"]
    assert loss["name"] == "ragan" and loss["options"] == {"form": "hinge"}


def test_installed_entry_point_trains_and_is_recorded(tmp_path):
    """Through the real entry point: what `pip install gancli-ragan` gives a user."""
    with gancli.testing.installed_plugins():
        listing = gancli.testing.run_cli("plugins", "--json")
        plugins = {p["name"]: p for p in json.loads(listing.output)}
        assert "ragan" in plugins, "gancli-ragan is not installed: pip install -e plugins/gancli-ragan"
        assert plugins["ragan"]["distribution"] == "gancli-ragan"
        assert plugins["ragan"]["components"] == ["loss:ragan"] and not plugins["ragan"]["errors"]
        result = gancli.testing.run_cli("train", "--loss", "ragan", "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.output
    loss = json.loads((tmp_path / "run" / "run.json").read_text())["loss"]
    assert (loss["plugin"], loss["distribution"], loss["version"]) == ("ragan", "gancli-ragan", "0.1.0")
