"""gancli generate: draw from an exported ONNX generator with onnxruntime, numpy and Pillow (no torch)."""

from __future__ import annotations

import os

import click

from ..errors import GancliError
from .common import truncation_options


@click.command(help="""Draw samples from an ONNX generator written by `gancli export`, without torch.

\b
Runs on onnxruntime, numpy and Pillow only (a light install: see docs/export.md), and starts in a
fraction of the time `gancli sample` needs to import torch. PNG output is a grid of images (a scatter
plot for 2-D points); .npy output is the raw float32 array, (N, C, H, W) in [-1, 1] or (N, 2).
Latent vectors come from numpy's generator, so a seed draws other samples than `gancli sample`.
--direction moves every latent vector along a named direction stored in the file: z + S * d, with d
of unit length, so S counts latent standard deviations (in W: S * scale * d, scale recorded in the file).

\b
A generator with a W space: --truncation PSI (default: the psi recorded at export) works on both of its
exports. The full export (inputs z, psi) takes Z directions; the synthesis-only export (gancli export
--synthesis-only, with its OUT.mapping.onnx beside it) also takes W and W+ directions and latents
(--latent ws.npy: (N, num_ws, w_dim) is W+; --latent-space w for (N, w_dim)), truncated in numpy.

\b
Examples:
  gancli generate g.onnx -n 64 -o grid.png
  gancli generate g.onnx -n 1000 --seed 3 -o samples.npy
  gancli generate g.onnx --label 7 -n 16 -o sevens.png              (conditional generators)
  gancli generate g.onnx --direction smile --strength 2 -o smiling.png
  gancli generate g.onnx --truncation 0.7 -o grid.png               (W generators)
  gancli generate s.onnx --truncation 0.7 --direction smile -o smiling.png   (a synthesis-only export)
  gancli generate s.onnx --latent ws.npy -o projected.png
""")
@click.argument("model", type=click.Path())
@click.option("-n", "count", type=int, default=64, show_default=True, help="number of samples")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--label", type=int, help="class to draw (conditional generators; default: cycle through classes)")
@click.option("--direction", help="name of a latent direction stored in the model")
@click.option("--strength", type=float, help="how far to move along --direction, in latent std  [default: 1]")
@truncation_options
@click.option("--latent", type=click.Path(),
              help="latents to draw instead of -n/--seed: .npy or .safetensors, (N, z_dim), (N, w_dim) or "
                   "(N, num_ws, w_dim)")
@click.option("--latent-space", type=click.Choice(["z", "w", "w+"]),
              help="space of a 2-D --latent array (default z; a 3-D array is w+)")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png or OUT.npy")
def generate(model, count, seed, label, direction, strength, truncation, truncation_cutoff, latent, latent_space,
             output):
    if count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if seed < 0:
        raise GancliError(f"--seed must be 0 or more, got {seed}")
    if not output.lower().endswith((".png", ".npy")):
        raise GancliError(f"output {output} must end in .png (a picture) or .npy (the raw array)")
    if strength is not None and direction is None:
        raise GancliError("--strength needs --direction NAME")
    if latent_space and not latent:
        raise GancliError("--latent-space needs --latent FILE")
    if os.path.isdir(model) or model.lower().endswith(".safetensors"):
        raise GancliError(f"{model} is a run or checkpoint, not an exported model: draw from it with "
                          f"gancli sample, or export it first with gancli export {model} --onnx g.onnx")

    from ..api.onnx import OnnxGenerator
    from ..runtime.images import save_samples

    handle = OnnxGenerator(model)
    generator = handle.runtime
    generator.check_truncation(truncation, truncation_cutoff)
    if latent:
        latents, space = _read(latent, generator, latent_space)
        if space != "z" and label is not None:
            raise GancliError(f"--label applies to z latents; {space} latents already hold their class")
    else:
        latents, space = handle.latents(count, seed), "z"
    samples = handle.decode(latents, space, label, truncation, truncation_cutoff, direction,
                            1.0 if strength is None else strength)
    try:
        save_samples(samples, output, generator.info.data_kind)
    except OSError as exc:
        raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(samples)} samples to {output} (generator at step {generator.info.step}"
               f"{_truncation_note(generator, space, truncation)})", err=True)


def _read(path, generator, space):
    from ..runtime.latent_files import read_latents

    return read_latents(path, generator, space)


def _truncation_note(generator, space, truncation) -> str:
    info = generator.info
    if not info.has_w:
        return ""
    psi = truncation if truncation is not None or space != "z" else info.truncation
    return "" if psi is None else f", truncation {psi:g}"
