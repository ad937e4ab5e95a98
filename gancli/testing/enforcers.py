"""check_enforcer: an enforcer keeps a critic's slope where it claims to, measured on a tiny 2-D problem.

The problem: reals and fakes are two clusters of 2-D points, and a small MLP critic trains on the
Wasserstein objective (its slope grows without bound when nothing holds it back). The same critic trains
twice from the same seed, with and without the enforcer; both slopes (input-gradient norms) are measured
on the reals, the fakes and points between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..components import LipschitzEnforcer
from .common import ContractError, instantiate, one_thread, require


@dataclass
class EnforcerReport:
    """Slopes (critic input-gradient norms) measured by :func:`check_enforcer`."""

    max_slope: float           # largest over reals, fakes and points between them, with the enforcer
    real_slope: float          # mean over the reals, with the enforcer
    baseline_max_slope: float  # the same, trained without it
    baseline_real_slope: float


@one_thread
def check_enforcer(enforcer, options=None, *, steps: int = 100, bound: float = 1.5, seed: int = 0) -> EnforcerReport:
    """Check a :class:`gancli.LipschitzEnforcer` (class or instance) and measure what it does.

    - ``prepare(D)`` returns a module; ``penalty(critic, real, fake, step)`` returns ``None`` or a finite
      scalar whose gradient reaches D's weights; ``after_step(D)`` runs; ``conflicts`` maps names to reasons;
    - an enforcer with ``bounds_critic = True`` keeps the critic's slope at most ``bound`` on the reals, the
      fakes and the points between them after ``steps`` critic steps, where the same critic without it
      exceeds ``bound`` (gradient penalties are soft constraints, hence a bound a little above 1);
    - one with ``bounds_critic = False`` (a regulariser such as R1) must at least halve the slope on the
      real data compared with training without it.

    Returns an :class:`EnforcerReport` so a test can assert more (for example a slope close to 1).
    """
    instance, cls = instantiate(enforcer, LipschitzEnforcer, options)
    name = cls.__name__
    require(isinstance(cls.conflicts, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in cls.conflicts.items()),
            f"{name}.conflicts must map enforcer names to the reason they do not combine")
    real, fake = _clusters(seed)
    _check_penalty(instance, name, real, fake, seed)

    baseline = _train(None, real, fake, steps, seed)
    measured = _train(instance, real, fake, steps, seed)
    report = EnforcerReport(measured[0], measured[1], baseline[0], baseline[1])
    require(report.baseline_max_slope > bound,
            f"the unconstrained critic's slope stayed at {report.baseline_max_slope:.3g}, not above the bound "
            f"{bound}; raise steps")
    if cls.bounds_critic:
        require(report.max_slope <= bound,
                f"{name} claims bounds_critic = True but the critic's slope reached {report.max_slope:.3g} "
                f"(bound {bound}; {report.baseline_max_slope:.3g} without it); strengthen it or set "
                "bounds_critic = False")
    else:
        require(report.real_slope <= report.baseline_real_slope / 2,
                f"{name} left the critic's slope on real data at {report.real_slope:.3g} "
                f"({report.baseline_real_slope:.3g} without it): it regularises nothing measurable")
    return report


def _clusters(seed: int):
    import torch

    g = torch.Generator().manual_seed(seed)
    real = torch.randn(64, 2, generator=g) * 0.3 + torch.tensor([2.0, 0.0])
    fake = torch.randn(64, 2, generator=g) * 0.3 + torch.tensor([-2.0, 0.0])
    return real, fake


def _critic(seed: int):
    import torch
    from torch import nn

    class Critic(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                                     nn.Linear(32, 1))

        def forward(self, x, labels=None):
            return self.net(x.flatten(1)).squeeze(1)

    torch.manual_seed(seed)
    return Critic()


def _check_penalty(instance, name: str, real, fake, seed: int) -> None:
    import torch

    D = instance.prepare(_critic(seed))
    require(isinstance(D, torch.nn.Module), f"{name}.prepare(D) must return the module to use (got {type(D)})")
    term = instance.penalty(lambda x: D(x), real.clone(), fake.clone(), step=0)
    if term is not None:
        require(isinstance(term, torch.Tensor) and term.dim() == 0 and bool(torch.isfinite(term)),
                f"{name}.penalty must return None or a finite scalar tensor, got {term!r}")
        unreached = f"{name}.penalty's gradient does not reach D's weights; build it from critic(x) with " \
                    "torch.autograd.grad(..., create_graph=True)"
        require(term.requires_grad, unreached)
        grads = torch.autograd.grad(term, [p for p in D.parameters() if p.requires_grad], allow_unused=True)
        require(any(g is not None for g in grads), unreached)
    instance.after_step(D)


def _train(instance, real, fake, steps: int, seed: int):
    """(max slope, mean slope on reals) of a critic trained on the Wasserstein objective."""
    import torch

    D = _critic(seed)
    if instance is not None:
        D = instance.prepare(D)
    opt = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.9))
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = D(fake).mean() - D(real).mean()
        if instance is not None:
            term = instance.penalty(lambda x: D(x), real, fake, step=step)
            if term is not None:
                loss = loss + term
        loss.backward()
        opt.step()
        if instance is not None:
            instance.after_step(D)
    between = torch.lerp(fake, real, torch.linspace(0, 1, len(real)).unsqueeze(1))
    slopes = [_slopes(D, x) for x in (real, fake, between)]
    if not all(bool(torch.isfinite(s).all()) for s in slopes):
        raise ContractError("the critic's slopes became non-finite during training")
    return max(float(s.max()) for s in slopes), float(slopes[0].mean())


def _slopes(D, x):
    import torch

    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x)
    return grad.flatten(1).norm(dim=1).detach()
