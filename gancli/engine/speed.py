"""How the trainer runs fast: optimizers, reduced precision and compilation (docs/performance.md has the figures).

- ``--precision bf16``: forward passes under bfloat16 autocast (weights, gradients and Adam's state stay
  float32) and convolutional networks in channels-last memory. Measured on an AMX Xeon: bf16 with channels-last
  roughly halves a step, while channels-last alone in float32 made it slower, so the two go together. The
  default, ``auto``, takes bf16 for image data where the hardware has bfloat16 arithmetic (a CUDA GPU that
  supports it; a CPU with AVX512-BF16 or AMX-BF16) and float32 elsewhere: CPUs without those instructions
  emulate bfloat16 and run slower than in float32, and 2-D points need float32's resolution. ``fp32`` computes
  exactly what the plain loop computes, only with less overhead.
- ``--compile``: ``torch.compile`` of the generator, and of the discriminator when no gradient penalty needs
  its double backward (aot_autograd does not support it). Compiling takes tens of seconds at start-up.
"""

from __future__ import annotations

import contextlib

import torch


def adam(params, lr: float, betas: tuple) -> torch.optim.Adam:
    """Adam updating all tensors with one multi-tensor (foreach) kernel per operation.

    The foreach path computes the same update as the per-tensor loop PyTorch uses by default on CPU
    (tests/test_performance.py checks the weights are equal), with fewer operator calls.
    """
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def resolve_precision(precision: str, device: torch.device, data_kind: str) -> str:
    """``auto`` made concrete for this device and data (see the module's note); fp32 and bf16 stay as given."""
    if precision != "auto":
        return precision
    return "bf16" if data_kind == "image" and fast_bf16(device) else "fp32"


def fast_bf16(device: torch.device) -> bool:
    """Whether ``device`` has bfloat16 arithmetic in hardware, rather than emulating it."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8  # Ampere and later
    if device.type == "cpu":
        flags = cpu_flags()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False


def cpu_flags() -> set:
    """The CPU's instruction-set flags: torch's CPUID reading where this torch has it, /proc/cpuinfo otherwise."""
    reader = getattr(torch._C._cpu, "_get_cpu_capability", None)
    if reader is not None:
        return {name for name, present in reader().items() if present is True}
    try:
        with open("/proc/cpuinfo") as fh:
            return next((set(line.split(":", 1)[1].split()) for line in fh if line.startswith("flags")), set())
    except OSError:
        return set()


def autocast(device: torch.device, precision: str):
    """The context forward passes and losses run in: bfloat16 autocast for ``bf16``, nothing otherwise."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(precision: str, *tensors_or_modules):
    """Convolutional weights and image batches in channels-last layout under ``bf16`` (in place for modules);
    returns the tensors, converted where it applies."""
    out = []
    for item in tensors_or_modules:
        if precision == "bf16":
            if isinstance(item, torch.nn.Module):
                item.to(memory_format=torch.channels_last)
            elif isinstance(item, torch.Tensor) and item.dim() == 4:
                item = item.contiguous(memory_format=torch.channels_last)
        out.append(item)
    return out[0] if len(out) == 1 else out


def compiled(module, enabled: bool):
    """``torch.compile(module)`` when ``enabled``; the module itself otherwise. Parameters stay shared, so
    optimizers and checkpoints keep using the plain module."""
    return torch.compile(module) if enabled else module
