"""Built-in regularisers of the generator: terms the trainer adds to G's loss (see gancli.GeneratorRegularizer).

They reach the generator's latent spaces only through :class:`gancli.latents.LatentSpaces`, whose calls the
trainer routes through its DistributedDataParallel wrapper, so their gradients are averaged like G's loss.
"""

import math

import gancli

AUTO, W, Z = "auto", "w", "z"


class PathLengthRegularizer(gancli.GeneratorRegularizer):
    """Path-length regularisation (Karras et al. 2020, StyleGAN2): a fixed step in W moves the image a fixed amount.

    Every ``interval`` generator steps (lazy; the weight is multiplied by the interval), on the first
    1/batch_shrink of the step's latents: ws = mapping(z) with the graph kept, images = synthesis(ws), and a
    random image-space direction y ~ N(0, 1) / sqrt(H W). The path length of each sample is
    |J^T y| = sqrt(mean over the layers of W+ of sum over w_dim of (d sum(images y) / d ws)^2); a moving mean a
    of the lengths (decay 0.01, saved in checkpoints) is updated first and the term is
    weight * interval * mean((length - a)^2).

    A generator with a Z space only (dcgan, resnet, mlp) is regularised with respect to z instead, where the
    length is |J_z^T y| (space=auto does that; space=w refuses such a generator, space=z uses z always): the
    Jacobian of G then keeps a steady norm around the latents, which is a smoothness prior rather than the
    disentangling effect StyleGAN2 reports for W.
    """

    class Options(gancli.Options):
        weight: float = gancli.field(2.0, help="weight of the penalty (StyleGAN2: 2)", min=0.0)
        interval: int = gancli.field(4, help="apply every k generator steps, the weight times k (lazy; StyleGAN2: 4)",
                                     min=1)
        decay: float = gancli.field(0.01, help="decay of the moving mean of path lengths", min=0.0, max=1.0)
        batch_shrink: int = gancli.field(2, help="regularise on 1/k of the generator step's latents", min=1)
        space: str = gancli.field(AUTO, choices=(AUTO, W, Z),
                                  help="differentiate with respect to W+ (w) or z; auto: W+ where the generator has "
                                       "a mapping network, else z")

    def __init__(self, **options):
        super().__init__(**options)
        import torch

        self.mean = torch.zeros(())
        self.needs = (W,) if self.space == W else ()

    def penalty(self, G, spaces, z, labels=None, step=0):
        import torch

        if step % self.interval or self.weight == 0:
            return None
        n = max(1, len(z) // self.batch_shrink)
        z, labels = z[:n], None if labels is None else labels[:n]
        in_w = spaces.has_w if self.space == AUTO else self.space == W
        if in_w:
            latents = spaces.convert(z, "z", "w+", labels, grad=True)  # (n, num_ws, w_dim), a graph back to z
        else:
            latents = z.detach().requires_grad_(True)
        images = spaces.decode(latents, "w+" if in_w else "z", labels, grad=True)
        pixels = images.shape[2] * images.shape[3] if images.dim() == 4 else images[0].numel()
        y = torch.randn_like(images) / math.sqrt(pixels)
        (grads,) = torch.autograd.grad((images * y).sum(), latents, create_graph=True)
        squares = grads.square().sum(-1)
        lengths = (squares.mean(1) if in_w else squares).sqrt()
        mean = self.mean.to(lengths).lerp(lengths.mean(), self.decay)  # as StyleGAN2: the updated mean, with its graph
        self.mean = mean.detach()
        return self.weight * self.interval * (lengths - mean).square().mean()

    def state(self) -> dict:
        return {"mean": self.mean}

    def load_state(self, tensors: dict) -> None:
        mean = tensors["mean"]
        if mean.shape != ():
            raise ValueError(f"path-length mean must be a scalar, got shape {tuple(mean.shape)}")
        self.mean = mean.detach().clone().float()


@gancli.hookimpl
def register_generator_regularizers(register):
    register("path-length", PathLengthRegularizer, aliases=("pl",))
