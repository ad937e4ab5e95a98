"""The DRAGAN penalty (Kodali et al. 2017, "On convergence and stability of GANs") as a gancli plugin.

DRAGAN keeps the discriminator's gradient norm close to 1 in a small neighbourhood of the real data,
where mode collapse starts as sharp gradients; it is a regulariser for the ordinary GAN losses, not a
global Lipschitz bound, so a Wasserstein critic still needs gradient-penalty, spectral-norm or weight-clip.
"""

import gancli

_VS_R1 = ("opposite targets at the real data: r1 drives the gradient norm there to 0, dragan to 1; "
          "use one of them")
_VS_CLIP = ("weight clipping fights a gradient penalty: clipped weights cannot reach the unit gradient norm "
            "the penalty asks for; use one of them")


class DraganEnforcer(gancli.LipschitzEnforcer):
    """DRAGAN penalty (Kodali et al. 2017): lambda * E[(||grad D(x + d)|| - 1)^2] near the real data.

    The points x + d are real samples moved part of the way (a uniform fraction per sample) towards a
    perturbation x + noise * std(x) * U[0, 1), as in the authors' code.
    """

    batch_independent = True  # the penalty is per sample; BatchNorm in D would mix samples
    bounds_critic = False  # it constrains D only near the data, so it cannot bound a Wasserstein critic
    conflicts = {"r1": _VS_R1, "weight-clip": _VS_CLIP}

    class Options(gancli.Options):
        lambda_: float = gancli.field(10.0, help="weight of the penalty", min=0.0)
        noise: float = gancli.field(0.5, help="size of the perturbation, in standard deviations of the real batch",
                                    min=0.0)

    def penalty(self, critic, real, fake, step=0):
        import torch  # torch only when training, not at registration

        real = real.detach()
        perturbed = real + self.noise * real.std() * torch.rand_like(real)
        alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        x = (real + alpha * (perturbed - real)).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return self.lambda_ * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@gancli.hookimpl
def register_lipschitz(register):
    register("dragan", DraganEnforcer)
