"""The latent spaces of a generator: the one module that knows whether a generator has a mapping network.

Every generator has a Z space (``G(z, labels)``). A style-based generator also offers

- ``mapping(z, labels) -> w`` (N, w_dim): the intermediate W space;
- ``synthesis(ws, noise=None) -> images``: one w per synthesis layer, ws of shape (N, num_ws, w_dim) (W+);
  ``noise`` is ``"const"`` (the stored per-layer noise: the same image for the same ws), ``"random"`` or
  ``"none"``; None means random while training and const in eval mode;
- ``num_ws``, ``w_dim`` and a buffer ``w_avg`` (w_dim,): the running average of w, the centre of truncation;
- optionally ``style_weights()`` -> [(out_features, w_dim) matrices]: the affine maps from w to each layer's
  styles, which SeFa reads in W.

A Z-only generator offers none of that and works everywhere as before. Commands, direction finders, exporters
and the Python API ask :class:`LatentSpaces` for latents, conversions and images instead of calling the
generator themselves, so no other module branches on "has a mapping network".

Truncation moves w towards ``w_avg``: ``w_avg + psi (w - w_avg)``, on the first ``cutoff`` layers of W+ only
when a cutoff is given. Strengths of edits are in units of the latent's standard deviation: 1 in Z by
construction, and in W the root-mean-square standard deviation of mapped latents (:meth:`LatentSpaces.scale`).
"""

from __future__ import annotations

from .errors import GancliError

Z, W, WPLUS = "z", "w", "w+"
SPACES = (Z, W, WPLUS)
TRUNCATION_RANGE = (-1.0, 2.0)
SCALE_SAMPLES, SCALE_SEED = 10_000, 2**31 - 7  # mapped latents behind W's scale: fixed, so edits repeat exactly
BATCH = 500


def has_mapping(G) -> bool:
    """Whether ``G`` offers the W spaces (see the module docstring)."""
    return all(hasattr(G, name) for name in ("mapping", "synthesis", "num_ws", "w_dim", "w_avg"))


def spaces_of(G) -> tuple:
    return SPACES if has_mapping(G) else (Z,)


def check_truncation(G, truncation: float | None, cutoff: int | None = None) -> None:
    """A one-line error for a psi outside [-1, 2], a cutoff out of range, or either on a Z-only generator."""
    if truncation is None and cutoff is None:
        return
    if not has_mapping(G):
        raise GancliError("truncation needs a generator with a W space (a mapping network, such as --arch "
                          "stylegan2); this generator has a Z space only: drop --truncation")
    low, high = TRUNCATION_RANGE
    if truncation is not None and not low <= truncation <= high:
        raise GancliError(f"--truncation must be in [{low:g}, {high:g}] (1 = none, 0.7 is common), got {truncation:g}")
    if cutoff is not None and not 1 <= cutoff <= G.num_ws:
        raise GancliError(f"--truncation-cutoff must be a layer count in 1..{G.num_ws}, got {cutoff}")


class LatentSpaces:
    """The latent spaces of one generator ``G`` (a torch module) with ``z_dim`` inputs.

    Latents are float tensors: (N, z_dim) in Z, (N, w_dim) in W, (N, num_ws, w_dim) in W+.
    """

    def __init__(self, G, z_dim: int, num_classes: int = 0, device: str = "cpu"):
        self.G, self.z_dim, self.num_classes, self.device = G, int(z_dim), int(num_classes), device
        self.spaces = spaces_of(G)
        self._scale = None
        self._views = {}

    @classmethod
    def of(cls, G, meta: dict, device: str = "cpu") -> "LatentSpaces":
        """The spaces of a generator loaded with its checkpoint metadata."""
        return cls(G, meta["z_dim"], meta.get("num_classes", 0), device)

    # ---- what there is ----------------------------------------------------------------------------
    @property
    def has_w(self) -> bool:
        return len(self.spaces) > 1

    def check_space(self, space: str, flag: str = "--space") -> str:
        if space not in SPACES:
            raise GancliError(f"{flag} must be one of {', '.join(SPACES)}, got {space!r}")
        if space not in self.spaces:
            raise GancliError(f"{flag} {space} needs a generator with a W space (a mapping network, such as --arch "
                              f"stylegan2); this generator has a Z space only: use {flag} z")
        return space

    def shape(self, space: str) -> tuple:
        """The shape of one latent of ``space``: (z_dim,), (w_dim,) or (num_ws, w_dim)."""
        self.check_space(space)
        if space == Z:
            return (self.z_dim,)
        return (int(self.G.w_dim),) if space == W else (int(self.G.num_ws), int(self.G.w_dim))

    def check_truncation(self, truncation: float | None, cutoff: int | None = None) -> None:
        check_truncation(self.G, truncation, cutoff)

    # ---- drawing and converting -------------------------------------------------------------------
    def sample_z(self, n: int, seed: int):
        import torch

        return torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))

    def sample(self, n: int, seed: int, space: str = Z, labels=None, truncation: float | None = None,
               cutoff: int | None = None):
        """``n`` latents of ``space`` from Gaussian z of ``seed`` (mapped, and truncated, for W and W+)."""
        return self.convert(self.sample_z(n, seed), Z, space, labels, truncation, cutoff)

    def convert(self, latents, src: str, dst: str, labels=None, truncation: float | None = None,
                cutoff: int | None = None, grad: bool = False):
        """Latents of ``src`` as latents of ``dst``: z -> w -> w+ (the mapping, then one copy per layer), with
        truncation applied on the way into W or W+. Going back (w -> z) has no closed form: project instead.
        ``grad`` keeps the mapping's graph (regularisers of G differentiate through it)."""
        import torch

        self.check_space(src, "source space")
        self.check_space(dst, "target space")
        self.check_truncation(truncation, cutoff)
        order = SPACES.index
        if order(dst) < order(src):
            raise GancliError(f"latents of {src} cannot be turned back into {dst} (the mapping has no inverse); "
                              f"give latents of {dst}, or edit in {src}")
        if src == dst and truncation is None:
            return latents
        if src == Z:
            with torch.enable_grad() if grad else torch.no_grad():
                latents = torch.cat([self.G.mapping(latents[i:i + BATCH].to(self.device),
                                                    None if labels is None else labels[i:i + BATCH].to(self.device))
                                     for i in range(0, len(latents), BATCH)])
            src = W
        if dst == W:
            return self.truncate(latents, truncation)
        if src == W:
            latents = latents.unsqueeze(1).repeat(1, int(self.G.num_ws), 1)
        return self.truncate(latents, truncation, cutoff)

    def truncate(self, latents, truncation: float | None, cutoff: int | None = None):
        """``w_avg + psi (w - w_avg)`` for W or W+ latents; with ``cutoff``, on the first ``cutoff`` layers only."""
        if truncation is None or truncation == 1:
            return latents
        w_avg = self.G.w_avg.to(latents.device, latents.dtype)
        truncated = w_avg + truncation * (latents - w_avg)
        if cutoff is None or latents.dim() == 2:
            return truncated
        out = latents.clone()
        out[:, :cutoff] = truncated[:, :cutoff]
        return out

    def mix(self, ws, other, layers: tuple):
        """Style mixing: W+ latents ``ws`` with the layers ``start:stop`` taken from ``other`` (W or W+)."""
        start, stop = layers
        if not 0 <= start < stop <= int(self.G.num_ws):
            raise GancliError(f"--mix-layers must be A:B with 0 <= A < B <= {self.G.num_ws}, got {start}:{stop}")
        if other.dim() == 2:
            other = other.unsqueeze(1).expand(-1, int(self.G.num_ws), -1)
        out = ws.clone()
        out[:, start:stop] = other[:, start:stop]
        return out

    # ---- images ----------------------------------------------------------------------------------
    def decode(self, latents, space: str = Z, labels=None, truncation: float | None = None,
               cutoff: int | None = None, grad: bool = False):
        """Images in [-1, 1] for latents of ``space`` (on ``device``, as the generator makes them).

        ``grad`` keeps the graph (for gradient walks and projection); otherwise no gradients are recorded."""
        import torch

        with torch.enable_grad() if grad else torch.no_grad():
            if space == Z and truncation is None and cutoff is None:
                return self.G(latents, labels)
            if space == WPLUS and truncation is None:
                return self.G.synthesis(latents)
            return self.G.synthesis(self.convert(latents, space, WPLUS, labels, truncation, cutoff, grad))

    def generate(self, latents, space: str = Z, labels=None, truncation: float | None = None,
                 cutoff: int | None = None):
        """:meth:`decode` in batches, the images gathered on the CPU as float32."""
        import torch

        parts = []
        for i in range(0, len(latents), BATCH):
            chunk = None if labels is None else labels[i:i + BATCH].to(self.device)
            parts.append(self.decode(latents[i:i + BATCH].to(self.device), space, chunk, truncation,
                                     cutoff).float().cpu())
        return torch.cat(parts)

    # ---- units of editing --------------------------------------------------------------------------
    def scale(self, space: str) -> float:
        """The latent's standard deviation per dimension (root mean square over dimensions): 1 in Z by
        construction; in W and W+ measured on 10,000 mapped latents of a fixed seed."""
        self.check_space(space)
        if space == Z:
            return 1.0
        if self._scale is None:
            w = self.sample(SCALE_SAMPLES, SCALE_SEED, W,
                            labels=self._cycled_labels(SCALE_SAMPLES) if self.num_classes else None)
            self._scale = float(w.double().var(0).mean().sqrt())
        return self._scale

    def _cycled_labels(self, n: int):
        import torch

        return torch.arange(n) % self.num_classes

    def style_weights(self):
        """The affine maps from w to the styles of every layer, stacked (outputs, w_dim), for SeFa in W."""
        import torch

        if not hasattr(self.G, "style_weights"):
            raise GancliError(f"{type(self.G).__name__} does not expose its style weights; SeFa in W needs them")
        return torch.cat([m.detach().double() for m in self.G.style_weights()])

    # ---- the view direction finders get ------------------------------------------------------------
    def view(self, space: str) -> "SpaceView":
        """The view of ``space``, one per space (so finders that score the same latents can tell it is the same
        generator, see gancli.directions.methods.attribute_logits)."""
        space = self.check_space(space)
        if space not in self._views:
            self._views[space] = SpaceView(self, space)
        return self._views[space]


class SpaceView:
    """One latent space in the coordinates direction finders work in: flat vectors (N, D) in units of the
    space's standard deviation and centred on ``w_avg`` in W, so that a unit step means the same in every space
    and Z is left exactly as it is. ``decode(u)`` gives images; ``sample(n, seed)`` latents of the space."""

    def __init__(self, spaces: LatentSpaces, space: str):
        self.spaces, self.space = spaces, space
        self.shape = spaces.shape(space)
        self.size = 1
        for d in self.shape:
            self.size *= d
        self.unit = spaces.scale(space)

    def to_view(self, latents):
        """Latents of the space -> finder coordinates (N, size)."""
        if self.space == Z:
            return latents
        centre = self.spaces.G.w_avg.to(latents.device, latents.dtype)
        return ((latents - centre) / self.unit).reshape(len(latents), self.size)

    def from_view(self, u):
        """Finder coordinates -> latents of the space."""
        if self.space == Z:
            return u
        centre = self.spaces.G.w_avg.to(u.device, u.dtype)
        return u.reshape(len(u), *self.shape) * self.unit + centre

    def sample(self, n: int, seed: int):
        return self.to_view(self.spaces.sample(n, seed, self.space))

    def decode(self, u):
        """Images for finder coordinates, with the graph kept where gradients are on (finders walk through it)."""
        import torch

        return self.spaces.decode(self.from_view(u), self.space, grad=torch.is_grad_enabled())

    def direction_to_space(self, vector):
        """A direction in finder coordinates (a flat vector, tensor or array), as a unit direction of the space's
        shape (float32)."""
        import torch

        v = torch.as_tensor(vector).detach().float().reshape(self.shape)
        return v / v.norm()
