"""check_architecture: shapes, value range, conditioning, batch independence and rebuilding from a checkpoint."""

from __future__ import annotations

from ..components import Architecture, DataSpec
from .common import instantiate, one_thread, require

DEFAULT_SPECS = {
    "image": (DataSpec("image", (1, 16, 16), class_names=("a", "b", "c")),
              DataSpec("image", (3, 16, 16), class_names=("a", "b", "c"))),
    "points": (DataSpec("points", (2,), class_names=("a", "b", "c")),),
}


@one_thread
def check_architecture(arch, options=None, *, specs=None, z_dim: int = 8, batch: int = 4, seed: int = 0) -> None:
    """Check a :class:`gancli.Architecture` (class or instance) on small data specs.

    For each spec (by default a grey and a colour 16x16 image, and 2-D points, as far as ``data_kinds``
    allows), unconditional and with 3 classes:

    - ``G(z)`` / ``G(z, labels)`` is a torch module giving ``(N, *spec.shape)``, finite, in [-1, 1] for images;
    - ``D(x)`` / ``D(x, labels)`` gives ``(N,)`` finite scores, and gradients flow from D's score to G's weights;
    - built with ``batch_independent=True``, D scores each sample on its own in training mode (no BatchNorm);
    - a second generator built from the same options loads the first one's weights and gives the same
      output (this is how gancli rebuilds a generator from a checkpoint).
    """
    import torch

    instance, cls = instantiate(arch, Architecture, options)
    name = cls.__name__
    require(cls.data_kinds and set(cls.data_kinds) <= {"image", "points"},
            f"{name}.data_kinds must list 'image' and/or 'points', not {cls.data_kinds!r}")
    specs = specs or [s for kind in cls.data_kinds for s in DEFAULT_SPECS[kind]]
    torch.manual_seed(seed)
    for spec in specs:
        for num_classes in (0, spec.num_classes):
            where = f"{name} on {spec.kind} {tuple(spec.shape)} with {num_classes or 'no'} classes"
            labels = torch.randint(0, num_classes, (batch,)) if num_classes else None
            G = instance.build_generator(spec, z_dim, num_classes)
            D = instance.build_discriminator(spec, num_classes, False)
            for module, role in ((G, "build_generator"), (D, "build_discriminator")):
                require(isinstance(module, torch.nn.Module), f"{where}: {role} must return a torch.nn.Module")
            z = torch.randn(batch, z_dim)
            x = G(z, labels) if num_classes else G(z)
            require(isinstance(x, torch.Tensor), f"{where}: G must return a tensor, got {type(x).__name__}")
            _check_samples(x.detach(), spec, batch, where)
            score = D(x, labels) if num_classes else D(x)
            require(isinstance(score, torch.Tensor) and tuple(score.shape) == (batch,),
                    f"{where}: D must return (N,) = ({batch},) scores, got {tuple(getattr(score, 'shape', ()))}")
            require(bool(torch.isfinite(score).all()), f"{where}: D's scores are not finite")
            score.sum().backward()
            require(any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in G.parameters()),
                    f"{where}: no gradient reaches G's weights through D(G(z))")
            _check_batch_independence(instance, spec, num_classes, x.detach(), labels, where)
            _check_rebuild(instance, G, spec, z_dim, num_classes, z, labels, where)


def _check_samples(x, spec, batch: int, where: str) -> None:
    import torch

    x = x.detach() if isinstance(x, __import__("torch").Tensor) else x
    want = (batch, *spec.shape)
    require(isinstance(x, torch.Tensor) and tuple(x.shape) == want,
            f"{where}: G must return {want}, got {tuple(getattr(x, 'shape', ()))}")
    require(bool(torch.isfinite(x).all()), f"{where}: G's samples are not finite")
    if spec.kind == "image":
        require(float(x.min()) >= -1 and float(x.max()) <= 1,
                f"{where}: images must lie in [-1, 1] (end the generator with tanh), got "
                f"[{float(x.min()):.3g}, {float(x.max()):.3g}]")


def _check_batch_independence(instance, spec, num_classes, x, labels, where: str) -> None:
    import torch

    D = instance.build_discriminator(spec, num_classes, True).train()
    few = labels[:2] if labels is not None else None
    with torch.no_grad():
        together = D(x, labels)[:2] if num_classes else D(x)[:2]
        alone = D(x[:2], few) if num_classes else D(x[:2])
    require(torch.allclose(together, alone, atol=1e-5),
            f"{where}: with batch_independent=True, D's score of a sample must not depend on the rest of the "
            "batch (a gradient penalty needs it); leave BatchNorm out in that case")


def _check_rebuild(instance, G, spec, z_dim, num_classes, z, labels, where: str) -> None:
    import torch

    twin = instance.build_generator(spec, z_dim, num_classes)
    try:
        twin.load_state_dict(G.state_dict())
    except RuntimeError as exc:
        raise AssertionError(f"{where}: a generator built again from the same options cannot load the first "
                             f"one's weights ({str(exc).splitlines()[0]})") from None
    G.eval(), twin.eval()
    with torch.no_grad():
        first = G(z, labels) if num_classes else G(z)
        second = twin(z, labels) if num_classes else twin(z)
    require(torch.allclose(first, second, atol=1e-6),
            f"{where}: a generator rebuilt from the same options and weights gives other samples; keep all "
            "state in parameters or buffers")
