"""gancli generate: draw from an exported ONNX generator with onnxruntime, numpy and Pillow (no torch)."""

from __future__ import annotations

import os

import click

from ..errors import GancliError


@click.command(help="""Draw samples from an ONNX generator written by `gancli export`, without torch.

\b
Runs on onnxruntime, numpy and Pillow only (a light install: see docs/export.md), and starts in a
fraction of the time `gancli sample` needs to import torch. PNG output is a grid of images (a scatter
plot for 2-D points); .npy output is the raw float32 array, (N, C, H, W) in [-1, 1] or (N, 2).
Latent vectors come from numpy's generator, so a seed draws other samples than `gancli sample`.
--direction moves every latent vector along a named direction stored in the file: z + S * d, with d
of unit length, so S counts latent standard deviations.

\b
Examples:
  gancli generate g.onnx -n 64 -o grid.png
  gancli generate g.onnx -n 1000 --seed 3 -o samples.npy
  gancli generate g.onnx --label 7 -n 16 -o sevens.png              (conditional generators)
  gancli generate g.onnx --direction smile --strength 2 -o smiling.png
""")
@click.argument("model", type=click.Path())
@click.option("-n", "count", type=int, default=64, show_default=True, help="number of samples")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--label", type=int, help="class to draw (conditional generators; default: cycle through classes)")
@click.option("--direction", help="name of a latent direction stored in the model")
@click.option("--strength", type=float, help="how far to move along --direction, in latent std  [default: 1]")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png or OUT.npy")
def generate(model, count, seed, label, direction, strength, output):
    if count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if seed < 0:
        raise GancliError(f"--seed must be 0 or more, got {seed}")
    if not output.lower().endswith((".png", ".npy")):
        raise GancliError(f"output {output} must end in .png (a picture) or .npy (the raw array)")
    if strength is not None and direction is None:
        raise GancliError("--strength needs --direction NAME")
    if os.path.isdir(model) or model.lower().endswith(".safetensors"):
        raise GancliError(f"{model} is a run or checkpoint, not an exported model: draw from it with "
                          f"gancli sample, or export it first with gancli export {model} --onnx g.onnx")

    from ..runtime.images import save_samples
    from ..runtime.onnx_generator import OnnxGenerator

    generator = OnnxGenerator(model)
    z = generator.latents(count, seed)
    labels = generator.labels(count, label)
    if direction is not None:
        z = z + (1.0 if strength is None else strength) * generator.direction(direction)
    samples = generator(z, labels)
    try:
        save_samples(samples, output, generator.info.data_kind)
    except OSError as exc:
        raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {count} samples to {output} (generator at step {generator.info.step})", err=True)
