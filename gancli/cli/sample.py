"""gancli sample: draw from a trained generator into a PNG grid or a .npy array."""

from __future__ import annotations

import click

from ..errors import GancliError
from .common import registry_for_command


@click.command(help="""Draw samples from a trained generator (a run directory or a generator .safetensors file).

\b
PNG output is a grid of images (a scatter plot for 2-D point data); .npy output is the raw float
array, shape (N, C, H, W) in [-1, 1] for images or (N, 2) for points.

\b
Examples:
  gancli sample runs/0001 -n 64 -o grid.png
  gancli sample runs/0001/generator.safetensors -n 1000 --seed 3 -o samples.npy
  gancli sample runs/0002 --label 7 -n 16 -o sevens.png     (conditional runs)
""")
@click.argument("target", type=click.Path())
@click.option("-n", "count", type=int, default=64, show_default=True, help="number of samples")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--label", type=int, help="class to draw (conditional generators; default: cycle through classes)")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png or OUT.npy")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
def sample(target, count, seed, label, output, device):
    if count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if not output.lower().endswith((".png", ".npy")):
        raise GancliError(f"output {output} must end in .png (a picture) or .npy (the raw array)")
    registry = registry_for_command()

    import torch

    from ..engine.images import save_samples
    from ..engine.models import load_generator
    from ..engine.trainer import pick_device

    dev = pick_device(device)
    G, meta = load_generator(target, device=str(dev), registry=registry)
    num_classes = int(meta["num_classes"])
    if label is not None and not num_classes:
        raise GancliError("--label needs a conditional generator; this one was trained without --conditional")
    if label is not None and not 0 <= label < num_classes:
        raise GancliError(f"--label must be in 0..{num_classes - 1}, got {label}")
    z = torch.randn(count, int(meta["z_dim"]), generator=torch.Generator().manual_seed(seed)).to(dev)
    labels = None
    if num_classes:
        labels = torch.full((count,), label) if label is not None else torch.arange(count) % num_classes
        labels = labels.to(dev)
    with torch.inference_mode():
        samples = G(z, labels)
    try:
        save_samples(samples, output, meta["spec"]["kind"])
    except OSError as exc:
        raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {count} samples to {output} (generator at step {meta.get('step')})", err=True)
