"""Built-in adversarial losses. torch is imported inside the methods, not at registration."""

import gancli


class BCELoss(gancli.Loss):
    """Non-saturating BCE-with-logits loss (Goodfellow et al. 2014), the course's default.

    D: (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2.  G: BCE(D(G(z)), 1) = mean softplus(-D(G(z))).
    """

    output = "logit"

    def discriminator_loss(self, real_out, fake_out):
        from torch.nn.functional import softplus

        return (softplus(-real_out).mean() + softplus(fake_out).mean()) / 2

    def generator_loss(self, fake_out, real_out=None):
        from torch.nn.functional import softplus

        return softplus(-fake_out).mean()


class WassersteinLoss(gancli.Loss):
    """Wasserstein loss (Arjovsky et al. 2017): D maximises E[D(x)] - E[D(G(z))]; needs a Lipschitz enforcer.

    D: mean D(G(z)) - mean D(x).  G: -mean D(G(z)).
    """

    output = "critic"

    def discriminator_loss(self, real_out, fake_out):
        return fake_out.mean() - real_out.mean()

    def generator_loss(self, fake_out, real_out=None):
        return -fake_out.mean()


class WassersteinGPLoss(WassersteinLoss):
    """WGAN-GP preset (Gulrajani et al. 2017): wgan + gradient-penalty (lambda 10), 5 critic steps."""

    n_critic = 5
    lipschitz = (("gradient-penalty", {"lambda": 10.0}),)


@gancli.hookimpl
def register_losses(register):
    register("bce", BCELoss, aliases=("gan", "non-saturating"))
    register("wgan", WassersteinLoss, aliases=("wasserstein",))
    register("wgan-gp", WassersteinGPLoss)
