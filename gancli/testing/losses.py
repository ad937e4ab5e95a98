"""check_loss: finite values, gradients of the right sign, batch-size independence, large-score stability."""

from __future__ import annotations

from ..components import Loss
from .common import ContractError, instantiate, one_thread, require

OUTPUTS = ("logit", "critic")


@one_thread
def check_loss(loss, options=None, *, batch: int = 8, large: float = 100.0, seed: int = 0) -> None:
    """Check a :class:`gancli.Loss` (class or instance) on tiny batches of discriminator outputs.

    - ``output`` is "logit" or "critic", ``n_critic`` a positive int, ``lipschitz`` ``(name, {options})`` pairs;
    - both losses are finite scalars with finite gradients;
    - where the discriminator is wrong (reals scored about -1.5, fakes +1.5) the discriminator loss falls as
      real scores rise and as fake scores fall, for every sample; where it rejects the fakes (fakes -1.5,
      reals +1.5) the generator loss falls as fake scores rise;
    - a loss is an average, not a sum: the same batch repeated twice gives the same value;
    - scores of +-``large`` (a confident discriminator) still give finite values and gradients
      (use softplus / logsigmoid, not log(sigmoid(x))); ``large=None`` skips this.

    ``generator_loss`` receives the discriminator's outputs on real data only when the class sets
    ``generator_uses_real = True``; otherwise it receives ``None``, as in training.
    """
    import torch

    instance, cls = instantiate(loss, Loss, options)
    name = cls.__name__
    require(cls.output in OUTPUTS, f"{name}.output must be one of {', '.join(OUTPUTS)}, not {cls.output!r}")
    require(isinstance(cls.n_critic, int) and cls.n_critic >= 1, f"{name}.n_critic must be a positive int")
    require(all(isinstance(n, str) and isinstance(o, dict) for n, o in cls.lipschitz),
            f"{name}.lipschitz must hold (enforcer name, {{option: value}}) pairs")

    g = torch.Generator().manual_seed(seed)
    low = -1 - torch.rand(batch, generator=g)   # a score that says "fake"
    high = 1 + torch.rand(batch, generator=g)   # a score that says "real"

    # The discriminator is wrong: it scores reals low and fakes high.
    value, (d_real, d_fake) = _loss_and_grads(instance.discriminator_loss, low, high, f"{name}.discriminator_loss")
    _one_sign(d_real, -1, f"{name}.discriminator_loss must fall as D's score on real data rises "
                          "(it rewards D for calling reals real)")
    _one_sign(d_fake, +1, f"{name}.discriminator_loss must fall as D's score on fake data falls "
                          "(it rewards D for calling fakes fake)")
    _averages(instance.discriminator_loss, (low, high), value, f"{name}.discriminator_loss")

    # The discriminator rejects the fakes: the generator must want higher scores.
    generator = _generator_loss(instance, cls)
    value, (g_fake, _) = _loss_and_grads(generator, low, high, f"{name}.generator_loss")
    _one_sign(g_fake, -1, f"{name}.generator_loss must fall as D's score on fake data rises "
                          "(it rewards G for fooling D)")
    _averages(generator, (low, high), value, f"{name}.generator_loss")

    if large is not None:
        for a, b in ((-large, large), (large, -large)):
            first, second = torch.full((batch,), float(a)), torch.full((batch,), float(b))
            _loss_and_grads(instance.discriminator_loss, first, second,
                            f"{name}.discriminator_loss at scores {a:+g} (real) and {b:+g} (fake)", stable=True)
            _loss_and_grads(generator, first, second,
                            f"{name}.generator_loss at scores {a:+g} (fake) and {b:+g} (real)", stable=True)


def _generator_loss(instance, cls):
    """generator_loss as the trainer calls it: with D's outputs on real data only when the loss asks."""
    if cls.generator_uses_real:
        return instance.generator_loss

    def without_real(fake_out, real_out):
        try:
            return instance.generator_loss(fake_out, None)
        except Exception as exc:
            instance.generator_loss(fake_out, real_out)  # a failure of its own is raised as it is
            raise ContractError(f"{cls.__name__}.generator_loss fails with real_out=None ({type(exc).__name__}: "
                                f"{exc}) but works with it: set generator_uses_real = True") from None

    return without_real


def _loss_and_grads(fn, first, second, what: str, stable: bool = False):
    import torch

    a, b = first.clone().requires_grad_(True), second.clone().requires_grad_(True)
    value = fn(a, b)
    require(isinstance(value, torch.Tensor) and value.dim() == 0,
            f"{what} must return a 0-dim tensor (a scalar), got {getattr(value, 'shape', type(value).__name__)}")
    hint = "; compute it with softplus/logsigmoid rather than log(sigmoid(x))" if stable else ""
    require(torch.isfinite(value), f"{what} is {value.item()}{hint}")
    grads = torch.autograd.grad(value, (a, b), allow_unused=True)
    for grad in grads:
        require(grad is None or bool(torch.isfinite(grad).all()), f"{what} has non-finite gradients{hint}")
    require(grads[0] is not None, f"{what} does not depend on its first argument")
    return value.detach(), [g if g is not None else torch.zeros_like(first) for g in grads]


def _one_sign(grad, sign: int, message: str) -> None:
    """Every sample's gradient has the given sign (or is zero), and they do not all vanish."""
    tolerance = 1e-7
    require(bool((grad * sign >= -tolerance).all()) and float((grad * sign).sum()) > 0,
            f"{message}; gradients were {[round(v, 4) for v in grad.tolist()]}")


def _averages(fn, inputs, value, what: str) -> None:
    import torch

    twice = fn(*(torch.cat([x, x]) for x in inputs)).detach()
    require(torch.allclose(twice, value, rtol=1e-4, atol=1e-6),
            f"{what} must average over the batch (the same batch twice gave {twice.item():.6g} instead of "
            f"{value.item():.6g}); use .mean() rather than .sum()")
