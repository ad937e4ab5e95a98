"""Built-in Lipschitz enforcers and discriminator regularisers.

Each acts at the moments of :class:`gancli.LipschitzEnforcer`: ``prepare`` (structural), ``penalty`` (a term
added to D's loss) or ``after_step`` (a projection). ``conflicts`` names the pairs that make no sense; the
planner refuses them with the reason, so each reason is declared on both sides of the pair.
"""

import gancli

_CLIP_VS_GP = ("weight clipping fights the gradient penalty: clipped weights cannot reach the unit gradient norm "
               "the penalty asks for (Gulrajani et al. 2017); use one of them")
_CLIP_VS_SN = ("spectral norm already rescales the weights; clipping its parametrised original weights "
               "changes nothing it guarantees; use one of them")
_R1_VS_GP = ("opposite targets: r1 drives the gradient norm on real data to 0, gradient-penalty drives it to 1; "
             "use one of them")
_R2_VS_GP = ("opposite targets: r2 drives the gradient norm on generated data to 0, gradient-penalty drives it to 1 "
             "(between real and generated data); use one of them")


def _input_gradient(critic, x):
    """d sum(critic(x)) / dx with a graph, so a penalty on it trains the critic."""
    import torch

    x = x.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.flatten(1)


class GradientPenaltyEnforcer(gancli.LipschitzEnforcer):
    """Gradient penalty (Gulrajani et al. 2017): lambda * E[(||grad D(x_hat)|| - 1)^2] on real/fake interpolates.

    With one_sided=true only norms above 1 are penalised, lambda * E[max(0, ||grad|| - 1)^2]: the
    Lipschitz penalty of WGAN-LP (Petzka et al. 2018), which asks for at most 1 rather than exactly 1.
    """

    batch_independent = True  # the penalty is per sample; BatchNorm in the critic would mix samples
    conflicts = {"weight-clip": _CLIP_VS_GP, "r1": _R1_VS_GP, "r2": _R2_VS_GP}

    class Options(gancli.Options):
        lambda_: float = gancli.field(10.0, help="weight of the penalty", min=0.0)
        one_sided: bool = gancli.field(False, help="penalise only gradient norms above 1 (WGAN-LP)")

    def penalty(self, critic, real, fake, step=0):
        import torch

        fake = fake.detach()
        eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        mixed = eps * real.detach() + (1 - eps) * fake
        excess = _input_gradient(critic, mixed).norm(2, dim=1) - 1
        if self.one_sided:
            excess = excess.clamp(min=0)
        return self.lambda_ * (excess ** 2).mean()


class WeightClipEnforcer(gancli.LipschitzEnforcer):
    """Weight clipping (Arjovsky et al. 2017): every critic parameter clamped to [-clip, clip] after each step."""

    conflicts = {"gradient-penalty": _CLIP_VS_GP, "spectral-norm": _CLIP_VS_SN}

    class Options(gancli.Options):
        clip: float = gancli.field(0.01, help="largest absolute value of a weight", min=1e-12)

    def after_step(self, D):
        import torch

        with torch.no_grad():
            for param in D.parameters():
                param.clamp_(-self.clip, self.clip)


class SpectralNormEnforcer(gancli.LipschitzEnforcer):
    """Spectral normalisation (Miyato et al. 2018): each weight layer of D divided by its largest singular value.

    Structural: ``prepare`` wraps every Linear, Conv and ConvTranspose (and Embedding) weight of D with
    torch's spectral_norm parametrisation; sigma is estimated by power iteration, ``n_power_iterations``
    per forward pass in training mode, and the vectors u, v are buffers saved with the checkpoint. Each
    layer is then 1-Lipschitz; BatchNorm, whose per-batch scale is outside that bound, breaks it, so a
    Wasserstein critic should use --arch-opt d_norm=none (as SNGAN's discriminator has no normalisation).
    """

    conflicts = {"weight-clip": _CLIP_VS_SN}

    class Options(gancli.Options):
        n_power_iterations: int = gancli.field(1, help="power iterations per forward pass to estimate sigma",
                                               min=1)

    def prepare(self, D):
        from torch import nn
        from torch.nn.utils import parametrize
        from torch.nn.utils.parametrizations import spectral_norm

        layers = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                  nn.ConvTranspose3d, nn.Embedding)
        for name, module in list(D.named_modules()):
            if isinstance(module, layers) and not parametrize.is_parametrized(module, "weight"):
                if not module.weight.detach().any():
                    raise gancli.GancliError(
                        f"spectral-norm cannot normalise D's layer {name}: its weight starts at zero (sigma = 0; "
                        "fix-up initialisation, as r3gan's residual blocks, which spectral norm would undo anyway); "
                        "use another enforcer, e.g. --lipschitz r1 --lipschitz r2")
                spectral_norm(module, n_power_iterations=self.n_power_iterations)
        return D


class _ZeroCentredPenalty(gancli.LipschitzEnforcer):
    """gamma/2 * E[||grad D(x)||^2] on one side's samples (``samples`` picks them), every ``interval`` D steps."""

    batch_independent = True  # a per-sample gradient is wrong through BatchNorm
    bounds_critic = False

    class Options(gancli.Options):
        gamma: float = gancli.field(10.0, help="weight gamma of the penalty (the term is gamma/2 E|grad|^2)",
                                    min=0.0)
        interval: int = gancli.field(1, help="apply every k discriminator steps, scaled by k (lazy regularisation)",
                                     min=1)

    def samples(self, real, fake):
        raise NotImplementedError

    def penalty(self, critic, real, fake, step=0):
        if step % self.interval:
            return None
        grad = _input_gradient(critic, self.samples(real, fake).detach())
        return self.gamma / 2 * self.interval * grad.pow(2).sum(dim=1).mean()


class R1Enforcer(_ZeroCentredPenalty):
    """R1 regulariser (Mescheder et al. 2018): gamma/2 * E[||grad D(x)||^2] on real data, zero-centred.

    It penalises D's slope on the data, which makes GAN training converge locally; it does not make a
    Wasserstein critic Lipschitz, so a critic loss still needs a bounding enforcer. With interval=k it runs
    every k-th discriminator step, multiplied by k (lazy regularisation, StyleGAN2 uses k=16).
    """

    conflicts = {"gradient-penalty": _R1_VS_GP}

    def samples(self, real, fake):
        return real


class R2Enforcer(_ZeroCentredPenalty):
    """R2 regulariser (Mescheder et al. 2018): gamma/2 * E[||grad D(G(z))||^2] on generated data, zero-centred.

    R1's twin on the fakes. R3GAN (Huang et al. 2024) trains its relativistic loss with both, the same gamma,
    every step: --lipschitz r1 --lipschitz r2 (--lipschitz-opt gamma=G sets both, r2.gamma=G this one); the two
    terms add up in D's loss. R3GAN reports R1 alone not enough to keep its training stable: R2 also flattens D
    around the generated samples. Like R1 it regularises and does not bound a critic; interval=k is lazy
    regularisation, as for r1.
    """

    conflicts = {"gradient-penalty": _R2_VS_GP}

    def samples(self, real, fake):
        return fake


@gancli.hookimpl
def register_lipschitz(register):
    register("gradient-penalty", GradientPenaltyEnforcer, aliases=("gp",))
    register("weight-clip", WeightClipEnforcer, aliases=("clip",))
    register("spectral-norm", SpectralNormEnforcer, aliases=("sn",))
    register("r1", R1Enforcer)
    register("r2", R2Enforcer)
