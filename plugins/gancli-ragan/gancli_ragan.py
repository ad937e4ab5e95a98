"""Relativistic average GAN losses (Jolicoeur-Martineau 2018) as a gancli plugin.

The discriminator no longer asks "is x real?" but "is x more real than the average fake?", and the
generator pushes its samples to look more real than the average real one. Both networks then see
gradients from real and fake data, which made training steadier in the paper.
"""

import gancli


def _margin_loss(form, y):
    """The loss on a relativistic score y that rewards large y: f(y) of the paper's Ra*GAN forms."""
    from torch.nn.functional import relu, softplus  # torch only when training, not at registration

    if form == "bce":
        return softplus(-y)  # -log(sigmoid(y)), without overflow
    if form == "lsgan":
        return (y - 1) ** 2
    return relu(1 - y)  # hinge


class RelativisticAverageLoss(gancli.Loss):
    """Relativistic average GAN loss (Jolicoeur-Martineau 2018): is real more real than the average fake?

    With C the discriminator's raw score and f the form's loss (bce: softplus(-y), lsgan: (y-1)^2,
    hinge: relu(1-y)), D minimises [E f(C(x) - E C(G(z))) + E f(E C(x) - C(G(z)))] / 2 and G the same
    with real and fake swapped.
    """

    output = "logit"  # D's score has a finite optimum under every form; no Lipschitz enforcer needed
    generator_uses_real = True  # G's loss compares fakes with the average real score

    class Options(gancli.Options):
        form: str = gancli.field("bce", choices=("bce", "lsgan", "hinge"),
                                 help="bce = RaSGAN, lsgan = RaLSGAN, hinge = RaHingeGAN")

    def _relativistic(self, better, worse):
        """Small when every ``better`` score beats the average ``worse`` one, and vice versa."""
        return (_margin_loss(self.form, better - worse.mean()).mean()
                + _margin_loss(self.form, better.mean() - worse).mean()) / 2

    def discriminator_loss(self, real_out, fake_out):
        return self._relativistic(real_out, fake_out)

    def generator_loss(self, fake_out, real_out=None):
        return self._relativistic(fake_out, real_out)


@gancli.hookimpl
def register_losses(register):
    register("ragan", RelativisticAverageLoss, aliases=("relativistic",))
