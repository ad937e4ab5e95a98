"""Built-in adversarial losses. torch is imported inside the methods, not at registration.

``output = "logit"`` marks a loss whose discriminator objective has a finite optimum (a classifier or
regression score: bce, hinge, lsgan, rpgan), so it trains without a Lipschitz enforcer; ``"critic"`` marks an
unbounded Wasserstein critic that the planner refuses to train without one.
"""

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


class MinimaxBCELoss(BCELoss):
    """Original min-max GAN loss (Goodfellow et al. 2014): G minimises log(1 - D(G(z))), which saturates.

    With D = sigmoid(f), D's loss is bce's; G's is mean log(1 - sigmoid(f(G(z)))) = -mean softplus(f(G(z))).
    Its gradient -sigmoid(f) vanishes when D confidently rejects the fakes (f << 0), early in training,
    which is why the non-saturating ``bce`` replaced it (the course's saturation point).
    """

    def generator_loss(self, fake_out, real_out=None):
        from torch.nn.functional import softplus

        return -softplus(fake_out).mean()


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


class HingeLoss(gancli.Loss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018, SNGAN), usually with --lipschitz spectral-norm.

    D: mean relu(1 - D(x)) + mean relu(1 + D(G(z))).  G: -mean D(G(z)).
    D's objective reaches its minimum 0 at finite scores (real >= 1, fake <= -1) and gives no gradient
    beyond the margin, so unlike a Wasserstein critic it is well defined without a Lipschitz enforcer
    (output "logit"); spectral norm is what SNGAN pairs it with for stability.
    """

    output = "logit"

    def discriminator_loss(self, real_out, fake_out):
        from torch.nn.functional import relu

        return relu(1 - real_out).mean() + relu(1 + fake_out).mean()

    def generator_loss(self, fake_out, real_out=None):
        return -fake_out.mean()


class LeastSquaresLoss(gancli.Loss):
    """Least-squares GAN loss (Mao et al. 2017): D regresses reals to b and fakes to a; G pushes fakes to c.

    D: 0.5 mean (D(x) - b)^2 + 0.5 mean (D(G(z)) - a)^2.  G: 0.5 mean (D(G(z)) - c)^2.
    D's output is a raw score (no sigmoid). a=0, b=1, c=1 (the default) is the paper's 0-1 coding (c = b);
    a=-1, b=1, c=0 satisfies b - c = 1 and b - a = 2, under which G minimises a Pearson chi-square divergence.
    """

    output = "logit"

    class Options(gancli.Options):
        a: float = gancli.field(0.0, help="target score of fakes for the discriminator")
        b: float = gancli.field(1.0, help="target score of reals for the discriminator")
        c: float = gancli.field(1.0, help="target score of fakes for the generator")

    def discriminator_loss(self, real_out, fake_out):
        return 0.5 * ((real_out - self.b) ** 2).mean() + 0.5 * ((fake_out - self.a) ** 2).mean()

    def generator_loss(self, fake_out, real_out=None):
        return 0.5 * ((fake_out - self.c) ** 2).mean()


class RelativisticPairingLoss(gancli.Loss):
    """Relativistic pairing loss (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024), with --lipschitz r1/r2.

    Pairs within the batch: D: mean softplus(-(D(x_i) - D(G(z_i)))).  G: mean softplus(-(D(G(z_i)) - D(x_i))).
    D says which of a pair is the real one, so only score differences matter. Output "logit": the loss is
    bce's softplus of a logit (the difference), saturating rather than linear like a Wasserstein critic, and
    with R1 and R2 (R3GAN's pairing) the game has a finite, locally convergent optimum, so no bounding enforcer
    is required.
    """

    output = "logit"
    generator_uses_real = True

    def discriminator_loss(self, real_out, fake_out):
        return _pairing(real_out, fake_out)

    def generator_loss(self, fake_out, real_out=None):
        if real_out is None:
            raise ValueError("rpgan's generator loss pairs each fake with a real: pass real_out, D's outputs on "
                             "the real batch")
        return _pairing(fake_out, real_out)


def _pairing(winner, loser):
    """mean softplus(-(winner_i - loser_i)): the loss of wanting ``winner`` scored above ``loser``, pair by pair."""
    from torch.nn.functional import softplus

    if winner.shape != loser.shape:
        raise ValueError(f"rpgan pairs real and fake outputs one to one; got shapes {tuple(winner.shape)} and "
                         f"{tuple(loser.shape)}")
    return softplus(loser - winner).mean()


@gancli.hookimpl
def register_losses(register):
    register("bce", BCELoss, aliases=("gan", "non-saturating"))
    register("bce-minimax", MinimaxBCELoss, aliases=("minimax",))
    register("wgan", WassersteinLoss, aliases=("wasserstein",))
    register("wgan-gp", WassersteinGPLoss)
    register("hinge", HingeLoss)
    register("lsgan", LeastSquaresLoss, aliases=("least-squares",))
    register("rpgan", RelativisticPairingLoss, aliases=("relativistic-pairing",))
