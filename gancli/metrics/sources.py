"""Where generated samples come from. A source knows what its generator makes (spec, latent size, classes,
the dataset it was trained on) and draws ``n`` samples for a seed; evaluation does not care whether the
generator is a gancli checkpoint or an exported file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from ..components import DataSpec


@dataclass
class SampleSource:
    """A generator seen from outside: ``generate(z, labels)`` -> samples (a tensor on the CPU)."""

    description: str  # for people: what was evaluated
    spec: DataSpec
    z_dim: int
    num_classes: int
    generate: object
    data: dict | None = None  # the training dataset as recorded: {"name": ..., "options": {...}}
    step: int | None = None
    info: dict = field(default_factory=dict)  # JSON-ready details for the report

    def draw(self, n: int, seed: int, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` samples from latents seeded by ``seed`` and, for a conditional generator, the labels asked
        for (classes in turn, so each class gets an equal share)."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.z_dim, generator=gen)
        labels = torch.arange(n) % self.num_classes if self.num_classes else None
        parts = []
        for start in range(0, n, batch_size):
            chunk = labels[start:start + batch_size] if labels is not None else None
            parts.append(self.generate(z[start:start + batch_size], chunk).float().cpu())
        return torch.cat(parts), labels


def checkpoint_source(target: str, registry, device: str = "cpu", truncation: float | None = None,
                      cutoff: int | None = None) -> SampleSource:
    """A run directory or a .safetensors checkpoint (the run's latest generator when given a directory), drawn
    with ``truncation`` (psi, and its layer ``cutoff``) where the generator has a W space.

    A training checkpoint of a run with --ema holds the raw and the averaged generator; the averaged one
    is what the run samples from and exports, so that is what is measured.
    """
    from ..latents import LatentSpaces
    from ..engine import checkpoint
    from ..engine.models import build_generator, load_generator
    from ..engine.runs import generator_file

    path = generator_file(target)
    ema, meta = checkpoint.load(path, prefix="G_ema.", device=device)
    if ema:
        G = build_generator(meta, registry).to(device)
        G.load_state_dict(ema)
        G.eval()
    else:
        G, meta = load_generator(path, device=device, registry=registry)

    spaces = LatentSpaces.of(G, meta, device)
    spaces.check_truncation(truncation, cutoff)

    def generate(z, labels):
        with torch.inference_mode():
            return spaces.decode(z.to(device), "z", labels.to(device) if labels is not None else None, truncation,
                                 cutoff)

    step = meta.get("step")
    weights = "EMA" if ema or (meta.get("ema") and meta.get("kind") == "generator") else "raw"
    truncated = "" if truncation is None else f", truncation {truncation:g}" + (f" on {cutoff} layers" if cutoff else "")
    return SampleSource(
        description=f"{path} (step {step}{', EMA weights' if weights == 'EMA' else ''}{truncated})",
        spec=DataSpec.from_json(meta["spec"]), z_dim=int(meta["z_dim"]), num_classes=int(meta["num_classes"]),
        generate=generate, data=meta.get("data"), step=step,
        info={"type": "checkpoint", "file": os.path.abspath(path), "step": step, "weights": weights,
              "arch": meta.get("arch", {}).get("name"), "loss": meta.get("loss", {}).get("name"),
              **({"truncation": truncation, "truncation_cutoff": cutoff} if truncation is not None else {})})


def onnx_source(path: str, truncation: float | None = None, cutoff: int | None = None) -> SampleSource:
    """An .onnx file written by ``gancli export``, run by onnxruntime: what will actually ship.

    Its metadata names the architecture, latent size, classes and sample shape but not the training
    dataset, so the evaluator asks for ``--data``. Latents are drawn exactly as for a checkpoint, so the
    figures of a checkpoint and of its export are directly comparable.
    """
    from ..runtime.onnx_generator import OnnxGenerator

    G = OnnxGenerator(path)
    info = G.info
    G.check_truncation(truncation, cutoff)

    def generate(z, labels):
        return torch.from_numpy(G(z.numpy(), labels.numpy() if labels is not None else None, truncation, cutoff))

    spec = DataSpec(kind=info.data_kind, shape=tuple(info.sample_shape), class_names=tuple(info.class_names))
    return SampleSource(
        description=f"{path} (ONNX, step {info.step}{'' if truncation is None else f', truncation {truncation:g}'})",
        spec=spec, z_dim=info.z_dim, num_classes=info.num_classes,
        generate=generate, step=info.step,
        info={"type": "onnx", "file": os.path.abspath(path), "step": info.step,
              "arch": info.architecture.get("name"), "exported_by": info.gancli_version})


def open_source(target: str, registry, device: str = "cpu", truncation: float | None = None,
                cutoff: int | None = None) -> SampleSource:
    """The sample source for what the user named on the command line: a run, a checkpoint or an .onnx file."""
    if target.lower().endswith(".onnx"):
        return onnx_source(target, truncation, cutoff)
    return checkpoint_source(target, registry, device, truncation, cutoff)
