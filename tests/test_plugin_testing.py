"""gancli.testing: the built-ins pass every contract check, and each check catches the mistake it is for."""

import types

import pytest

import gancli
import gancli.testing as T
from gancli.default_plugins import architectures, datasets, lipschitz, losses
from gancli.plugins import build_registry
from gancli.testing import ContractError


def plugin(**hooks):
    return types.SimpleNamespace(**{name: gancli.hookimpl(fn) for name, fn in hooks.items()})


@pytest.mark.parametrize("entry", build_registry(third_party=False).entries("loss"), ids=lambda e: e.name)
def test_builtin_losses_pass(entry):
    T.check_loss(entry.cls)
    T.check_options(entry.cls)


def test_builtin_enforcers_pass_and_measure_what_they_claim():
    assert T.check_enforcer(lipschitz.GradientPenaltyEnforcer).max_slope <= 1.5
    assert T.check_enforcer(lipschitz.SpectralNormEnforcer).max_slope <= 1.01
    assert T.check_enforcer(lipschitz.WeightClipEnforcer).max_slope < 0.1
    report = T.check_enforcer(lipschitz.R1Enforcer)
    assert report.real_slope < report.baseline_real_slope / 10


def test_builtin_architectures_and_datasets_pass():
    T.check_architecture(architectures.MLPArchitecture, {"width": 8})
    T.check_architecture(architectures.DCGANArchitecture, {"width": 8})
    T.check_dataset(datasets.RingDataset, {"n": 50})
    T.check_options(datasets.DigitsDataset, {"size": "12"})


class SummedLoss(losses.WassersteinLoss):
    """Sums instead of averaging."""

    def discriminator_loss(self, real_out, fake_out):
        return fake_out.sum() - real_out.sum()


class BackwardsLoss(losses.WassersteinLoss):
    """Rewards D for calling fakes real."""

    def discriminator_loss(self, real_out, fake_out):
        return real_out.mean() - fake_out.mean()


class NaiveBCELoss(losses.BCELoss):
    """-log(sigmoid(x)) written out: infinite for confident discriminators."""

    def discriminator_loss(self, real_out, fake_out):
        import torch

        return -(torch.log(torch.sigmoid(real_out)) + torch.log(1 - torch.sigmoid(fake_out))).mean()


class NeedsRealLoss(losses.WassersteinLoss):
    """Uses real_out in the generator loss without saying so."""

    def generator_loss(self, fake_out, real_out=None):
        return real_out.mean() - fake_out.mean()


@pytest.mark.parametrize("cls, message", [
    (SummedLoss, "must average over the batch"),
    (BackwardsLoss, "must fall as D's score on real data rises"),
    (NaiveBCELoss, "is inf; compute it with softplus/logsigmoid"),
    (NeedsRealLoss, "set generator_uses_real = True"),
])
def test_check_loss_catches(cls, message):
    with pytest.raises(ContractError, match=message.replace("(", r"\(")):
        T.check_loss(cls)


class BoastingEnforcer(gancli.LipschitzEnforcer):
    """Claims to bound the critic but only shrinks its outputs."""

    class Options(gancli.Options):
        weight: float = gancli.field(0.01, help="weight")

    def penalty(self, critic, real, fake, step=0):
        return self.weight * critic(real).pow(2).mean()


class DetachedEnforcer(gancli.LipschitzEnforcer):
    """Its penalty cannot train D."""

    def penalty(self, critic, real, fake, step=0):
        return critic(real).detach().abs().mean()


def test_check_enforcer_catches_a_false_bound_and_a_penalty_that_cannot_train():
    with pytest.raises(ContractError, match="claims bounds_critic = True but the critic's slope reached"):
        T.check_enforcer(BoastingEnforcer)
    with pytest.raises(ContractError, match="gradient does not reach D's weights"):
        T.check_enforcer(DetachedEnforcer)


class UnboundedMLP(architectures.MLPArchitecture):
    """Forgets the tanh."""

    def build_generator(self, spec, z_dim, num_classes=0):
        G = super().build_generator(spec, z_dim, num_classes)
        forward = G.forward
        G.forward = lambda z, labels=None: forward(z, labels) * 3
        return G


class BatchNormCritic(architectures.MLPArchitecture):
    """Keeps BatchNorm even when asked for a batch-independent D."""

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from torch import nn

        D = super().build_discriminator(spec, num_classes, batch_independent)
        inner = D.forward
        norm = nn.BatchNorm1d(1)
        D.add_module("norm", norm)
        D.forward = lambda x, labels=None: norm(inner(x, labels).unsqueeze(1)).squeeze(1)
        return D


def test_check_architecture_catches_range_and_batch_dependence():
    with pytest.raises(ContractError, match=r"images must lie in \[-1, 1\]"):
        T.check_architecture(UnboundedMLP, {"width": 4})
    with pytest.raises(ContractError, match="must not depend on the rest of the batch"):
        T.check_architecture(BatchNormCritic, {"width": 4})


class UnseededDataset(datasets.RingDataset):
    """Draws new points every time."""

    def load(self):
        import torch

        from gancli.data.mixtures import ring_centres, sample_mixture

        return sample_mixture(ring_centres(), self.std, self.n, int(torch.randint(0, 10**6, ())))


class UndocumentedOptionLoss(losses.BCELoss):
    """An option without help, and a default outside its own choices."""

    class Options(gancli.Options):
        mode: str = gancli.field("c", choices=("a", "b"), help="which mode")
        scale: float = 1.0


def test_check_dataset_and_check_options_catch_their_mistakes():
    with pytest.raises(ContractError, match="loading twice with the same options gave different data"):
        T.check_dataset(UnseededDataset, {"n": 20})
    with pytest.raises(ContractError, match="option 'scale' has no help text"):
        T.check_options(UndocumentedOptionLoss)
    UndocumentedOptionLoss.Options.__dataclass_fields__["scale"].metadata = {"help": "scale"}
    with pytest.raises(ContractError, match="default options are invalid"):
        T.check_options(UndocumentedOptionLoss)


def test_check_plugin_runs_every_check_and_reports_load_errors():
    def register_losses(register):
        register("summed", SummedLoss)

    with pytest.raises(ContractError, match="must average over the batch"):
        T.check_plugin(plugin(register_losses=register_losses), name="summing")

    def register_taken(register):
        register("bce", losses.BCELoss)

    with pytest.raises(ContractError, match="plugin taken did not load cleanly: .*'bce' is already registered"):
        T.check_plugin(plugin(register_losses=register_taken), name="taken")
    with pytest.raises(ContractError, match="registered no components"):
        T.check_plugin(types.SimpleNamespace(), name="empty")


def test_use_plugin_puts_the_module_in_the_registry_for_the_block(tmp_path):
    def register_losses(register):
        register("also-bce", losses.BCELoss)

    with T.use_plugin(plugin(register_losses=register_losses), name="extra") as registry:
        assert gancli.get_registry() is registry and registry.has("loss", "also-bce")
        assert T.run_cli("list", "losses", "--json").exit_code == 0
    assert not gancli.get_registry().has("loss", "also-bce")
