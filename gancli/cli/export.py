"""gancli export: a trained generator as ONNX, TorchScript and/or .pt2, verified against torch."""

from __future__ import annotations

import json

import click

from .common import truncation_options


@click.command(help="""Export a trained generator (a run directory or a generator .safetensors file) for deployment.

\b
--onnx       one self-contained .onnx file: inputs z (float32, batch x z_dim) and, for conditional
             generators, label (int64); output image in [-1, 1]; dynamic batch; BatchNorm folded
             into the layer before it; gancli metadata (latent size, classes, shape, named
             directions...) in metadata_props
--torchscript  a torch.jit.trace module (.pt)
--pt2        a torch.export program (.pt2), dynamic batch
With none of them, writes RUN/generator.onnx (or FILE.onnx beside a generator file; RUN/synthesis.onnx
with --synthesis-only).

\b
Every file is checked against torch eager on fixed inputs at batch 1, 7 and 64 before it is moved
into place: above a max abs difference of 1e-4 the command fails (exit 1) without writing that file.
Spectral norm and other parametrizations are baked into plain weights. The run's named directions
(RUN/directions.safetensors) go into every file, so `gancli generate --direction` works from it alone.

\b
A generator with a W space (a mapping network, such as stylegan2) takes a third input, psi (float32,
shape (): the truncation w_avg + psi (w - w_avg)), so one file serves every truncation; --truncation
sets the default psi recorded for consumers, --truncation-cutoff K truncates the first K layers only
(baked into the graph). Each file is verified at psi 0.5, 0.7, 1 and the default too. --synthesis-only
writes the synthesis network alone (input ws: float32, batch x num_ws x w_dim) and its mapping network
beside it (OUT.mapping.onnx: z [, label] -> w), with w_avg, the scale of W and the W/W+ directions in
its metadata, so that a torch-free consumer truncates and edits in W with numpy.

\b
Examples:
  gancli export runs/0001 --onnx g.onnx
  gancli export runs/0001 --onnx g.onnx --torchscript g.pt --pt2 g.pt2
  gancli export runs/0001/checkpoints/step-00000500.safetensors --onnx g500.onnx --opset 18
  gancli export runs/0002 --onnx g.onnx --truncation 0.7            (a generator with a W space)
  gancli export runs/0002 --onnx s.onnx --synthesis-only            (also writes s.mapping.onnx)
  gancli generate g.onnx -n 64 -o grid.png          (no torch needed from here on)
""")
@click.argument("target", type=click.Path())
@click.option("--onnx", "onnx_path", type=click.Path(), help="write an ONNX model here (OUT.onnx)")
@click.option("--torchscript", "torchscript_path", type=click.Path(), help="write a TorchScript module here (OUT.pt)")
@click.option("--pt2", "pt2_path", type=click.Path(), help="write a torch.export program here (OUT.pt2)")
@click.option("--opset", type=int, help="ONNX opset version (default: the exporter's, 20)")
@click.option("--directions", "directions_path", type=click.Path(),
              help="directions file to embed (default: the run's directions.safetensors, if any)")
@truncation_options
@click.option("--synthesis-only", is_flag=True,
              help="ONNX of the synthesis network alone (input ws) and, beside it, OUT.mapping.onnx (W generators)")
@click.option("--no-verify", is_flag=True, help="skip the comparison against torch eager")
@click.option("--json", "as_json", is_flag=True, help="print a JSON report on stdout")
def export(target, onnx_path, torchscript_path, pt2_path, opset, directions_path, truncation, truncation_cutoff,
           synthesis_only, no_verify, as_json):
    from ..api.exporting import export as export_files
    from ..export.verify import BATCHES, TOLERANCE

    result = export_files(target, onnx=onnx_path, torchscript=torchscript_path, pt2=pt2_path, opset=opset,
                          directions=directions_path, truncation=truncation, cutoff=truncation_cutoff,
                          synthesis_only=synthesis_only, verify=not no_verify)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
        return
    info, written = result.info, result.written
    classes = f"{info.num_classes} classes" if info.num_classes else "unconditional"
    click.echo(f"{target}: {info.architecture.get('name')} generator at step {info.step}, z_dim {info.z_dim}, "
               f"{classes}, {len(info.directions)} named directions")
    if info.has_w:
        cut = "all layers" if info.truncation_cutoff is None else f"the first {info.truncation_cutoff} layers"
        spaces = sorted(set(info.direction_spaces.values()))
        click.echo(f"  W space: w_dim {info.w_dim}, {info.num_ws} layers, scale {info.w_scale:.3g}; default psi "
                   f"{info.truncation:g} on {cut}" + (f"; directions in {', '.join(spaces)}" if spaces else ""))
    for e in written:
        graph = "" if e.graph == "generator" else f" ({e.graph})"
        psis = "" if e.psi_differences is None else f", psi {', '.join(f'{p:g}' for p in e.psi_differences)}"
        check = ("not verified" if e.differences is None else
                 f"max |diff| vs torch {max(e.differences.values()):.1e} at batch "
                 f"{', '.join(map(str, BATCHES))}{psis} (tolerance {TOLERANCE:.0e})")
        click.echo(f"  {e.format:<12} {e.path}{graph}  {e.bytes / 1e6:.1f} MB  {check}")

