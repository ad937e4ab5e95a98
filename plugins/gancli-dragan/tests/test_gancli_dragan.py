"""gancli-dragan's tests: the contract checks, the slope it holds near the data, and training with it."""

import json

import torch

import gancli.testing
import gancli_dragan

TINY = ["--steps", 2, "--batch-size", 8, "--data-opt", "size=16", "--arch-opt", "width=4", "--log-every", 1]


def test_plugin_passes_the_contract_checks():
    plugin = gancli.testing.check_plugin(gancli_dragan)
    assert plugin.components == [("lipschitz", "dragan")]


def test_holds_down_the_slope_at_the_real_data():
    """Against a critic whose slope grows without bound (the Wasserstein objective), not just halved."""
    report = gancli.testing.check_enforcer(gancli_dragan.DraganEnforcer)
    assert report.real_slope < report.baseline_real_slope / 50, report


def test_penalty_is_zero_for_a_unit_slope_critic():
    """A linear critic with a unit weight vector has gradient norm exactly 1 everywhere."""
    weight = torch.tensor([0.6, 0.8])
    real = torch.randn(16, 2)
    term = gancli_dragan.DraganEnforcer().penalty(lambda x: x @ weight, real, real)
    assert term.item() < 1e-10


def test_refuses_r1_with_the_reason(tmp_path):
    with gancli.testing.use_plugin(gancli_dragan):
        result = gancli.testing.run_cli("train", "--lipschitz", "dragan", "--lipschitz", "r1",
                                        "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 1 and "opposite targets" in result.output


def test_installed_entry_point_trains_and_is_recorded(tmp_path):
    """Through the real entry point: what `pip install gancli-dragan` gives a user."""
    with gancli.testing.installed_plugins():
        result = gancli.testing.run_cli("train", "--loss", "bce", "--lipschitz", "dragan",
                                        "--lipschitz-opt", "lambda=5", "--out", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.output
    (enforcer,) = json.loads((tmp_path / "run" / "run.json").read_text())["lipschitz"]
    assert enforcer["name"] == "dragan" and enforcer["options"]["lambda"] == 5.0
    assert (enforcer["distribution"], enforcer["version"]) == ("gancli-dragan", "0.1.0")
