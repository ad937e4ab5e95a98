"""check_generator_regularizer: a regulariser of G gives finite terms that train G, and its state resumes exactly.

It runs on two tiny generators: one with W spaces (a mapping network, ``mapping``/``synthesis``/``num_ws``/
``w_dim``/``w_avg``) and one with a Z space only, each behind :class:`gancli.latents.LatentSpaces`, as the
trainer hands them over (minus DistributedDataParallel).
"""

from __future__ import annotations

from ..components import GeneratorRegularizer
from ..latents import SPACES, LatentSpaces
from .common import ContractError, instantiate, one_thread, require

Z_DIM, SIDE, BATCH = 6, 8, 8


def toy_generators(seed: int = 0) -> dict:
    """``{"w": a tiny generator with W spaces, "z": one with a Z space only}``, 1x8x8 images in [-1, 1]."""
    import torch
    from torch import nn

    class ZOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(Z_DIM, 16), nn.Tanh(), nn.Linear(16, SIDE * SIDE))

        def forward(self, z, labels=None):
            return torch.tanh(self.net(z)).view(len(z), 1, SIDE, SIDE)

    class Styled(nn.Module):
        def __init__(self, w_dim: int = 5, num_ws: int = 3):
            super().__init__()
            self.w_dim, self.num_ws = w_dim, num_ws
            self.map = nn.Sequential(nn.Linear(Z_DIM, w_dim), nn.Tanh(), nn.Linear(w_dim, w_dim))
            self.layers = nn.ModuleList(nn.Linear(w_dim, SIDE * SIDE) for _ in range(num_ws))
            self.register_buffer("w_avg", torch.zeros(w_dim))

        def mapping(self, z, labels=None):
            return self.map(z)

        def synthesis(self, ws, noise=None):
            return torch.tanh(sum(layer(ws[:, i]) for i, layer in enumerate(self.layers))).view(len(ws), 1, SIDE,
                                                                                                   SIDE)

        def forward(self, z, labels=None):
            return self.synthesis(self.mapping(z).unsqueeze(1).repeat(1, self.num_ws, 1))

    torch.manual_seed(seed)
    return {"w": Styled().train(), "z": ZOnly().train()}


@one_thread
def check_generator_regularizer(regularizer, options=None, *, steps: int = 8, seed: int = 0) -> dict:
    """Check a :class:`gancli.GeneratorRegularizer` (class or instance built with ``options``).

    - ``needs`` is a tuple of latent spaces, ``data_kinds`` a tuple of kinds;
    - on every toy generator it serves (a W one; a Z-only one unless it ``needs`` W), ``penalty`` over
      generator steps 0 .. steps-1 returns ``None`` or finite scalars, at least once a term, and each term's
      gradient reaches G's weights;
    - ``state()`` maps names to tensors, and a fresh instance given ``load_state(state())`` half-way continues
      with the same terms, bit for bit (what exact resume needs).

    Returns ``{"w": [terms], "z": [terms]}`` (None for skipped steps), for further assertions.
    """
    instance, cls = instantiate(regularizer, GeneratorRegularizer, options)
    name = cls.__name__
    needs, kinds = instance.needs, instance.data_kinds
    require(isinstance(needs, tuple) and all(space in SPACES[1:] for space in needs),
            f"{name}.needs must be a tuple of latent spaces beyond z ('w', 'w+'), got {needs!r}")
    require(isinstance(kinds, tuple) and kinds and all(k in ("image", "points") for k in kinds),
            f"{name}.data_kinds must be a non-empty tuple of 'image' and/or 'points', got {kinds!r}")
    require("image" in kinds, f"{name} handles no images; check_generator_regularizer has only image generators")
    terms = {}
    for which, G in toy_generators(seed).items():
        if which == "z" and needs:
            continue
        terms[which] = _run(instance, cls, name, G, steps, seed, which)
    return terms


def _run(instance, cls, name: str, G, steps: int, seed: int, which: str) -> list:
    import torch

    from ..options import resolve, to_kwargs

    spaces = LatentSpaces(G, Z_DIM)
    fresh = cls(**to_kwargs(cls.Options, resolve(cls.Options, _options_of(instance, cls), name)))
    terms, resumed = [], []
    for step in range(steps):
        z = torch.randn(BATCH, Z_DIM, generator=torch.Generator().manual_seed(seed + step))
        torch.manual_seed(seed + 1000 + step)
        term = instance.penalty(G, spaces, z, None, step=step)
        terms.append(_checked(term, name, G, which, step))
        if step == steps // 2 - 1:
            state = instance.state()
            require(isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                    for k, v in state.items()),
                    f"{name}.state() must return {{name: tensor}}, got {type(state).__name__}")
            fresh.load_state({k: v.detach().clone() for k, v in state.items()})
        if step >= steps // 2:
            torch.manual_seed(seed + 1000 + step)
            again = fresh.penalty(G, spaces, z, None, step=step)
            resumed.append(None if again is None else float(again.detach()))
    require(any(t is not None for t in terms),
            f"{name}.penalty returned None at every one of generator steps 0..{steps - 1} ({which} generator)")
    expected = terms[steps // 2:]
    require(resumed == expected,
            f"{name} does not resume exactly: after load_state(state()) a fresh instance gave {resumed}, the "
            f"original {expected} ({which} generator); put every running statistic in state()")
    return terms


def _checked(term, name: str, G, which: str, step: int):
    import torch

    if term is None:
        return None
    require(isinstance(term, torch.Tensor) and term.dim() == 0 and bool(torch.isfinite(term)),
            f"{name}.penalty must return None or a finite scalar tensor, got {term!r} ({which} generator, "
            f"step {step})")
    unreached = (f"{name}.penalty's gradient does not reach G's weights ({which} generator); build it from "
                 "spaces.decode(..., grad=True) or G(z), differentiating with create_graph=True")
    require(term.requires_grad, unreached)
    grads = torch.autograd.grad(term, [p for p in G.parameters()], allow_unused=True)
    require(any(g is not None and bool(g.abs().sum() > 0) for g in grads), unreached)
    if not all(g is None or bool(torch.isfinite(g).all()) for g in grads):
        raise ContractError(f"{name}.penalty's gradient is not finite ({which} generator, step {step})")
    return float(term.detach())


def _options_of(instance, cls) -> dict:
    from ..options import schema

    return {info.name: getattr(instance, info.attr) for info in schema(cls.Options)}
