"""Built-in Lipschitz enforcers for Wasserstein critics."""

import gancli


class GradientPenaltyEnforcer(gancli.LipschitzEnforcer):
    """Gradient penalty (Gulrajani et al. 2017): lambda * E[(||grad D(x_hat)|| - 1)^2] on real/fake interpolates."""

    batch_independent = True  # the penalty is per sample; BatchNorm in the critic would mix samples

    class Options(gancli.Options):
        lambda_: float = gancli.field(10.0, help="weight of the penalty", min=0.0)

    def penalty(self, critic, real, fake, step=0):
        import torch

        fake = fake.detach()
        eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        norm = grad.flatten(1).norm(2, dim=1)
        return self.lambda_ * ((norm - 1) ** 2).mean()


class WeightClipEnforcer(gancli.LipschitzEnforcer):
    """Weight clipping (Arjovsky et al. 2017): every critic parameter clamped to [-clip, clip] after each step."""

    class Options(gancli.Options):
        clip: float = gancli.field(0.01, help="largest absolute value of a weight", min=1e-12)

    def after_step(self, D):
        import torch

        with torch.no_grad():
            for param in D.parameters():
                param.clamp_(-self.clip, self.clip)


@gancli.hookimpl
def register_lipschitz(register):
    register("gradient-penalty", GradientPenaltyEnforcer, aliases=("gp",))
    register("weight-clip", WeightClipEnforcer, aliases=("clip",))
