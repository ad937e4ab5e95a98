"""Per-step health of a training run: non-finite values found at the step they appear, and stop requests.

Each step the trainer hands over one small vector: the logged losses, a stop flag (SIGINT/SIGTERM on any rank)
and one "is non-finite" flag per quantity in the order it was computed (generator output, discriminator
scores, losses, penalties). Under torchrun the vector is summed over ranks in one all-reduce, so every rank
reaches the same verdict at the same step.

Reading the vector on the host is free on CPU, where kernels run synchronously, so it is read at every step.
On CUDA a read would stall the queue; the vector is copied to pinned memory without blocking and read one
step later, when that copy has long finished. Checkpoints wait for the pending verdict (``flush``), so a
non-finite step never reaches a checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .distributed import World

LOGGED = ("d_loss", "g_loss", "penalty", "d_real", "d_fake", "g_penalty")
MAX_ROLLBACKS = 3


@dataclass
class Verdict:
    step: int
    values: list  # LOGGED, averaged over ranks
    stop: bool
    culprit: str | None  # the first quantity that became non-finite, or None


class Checks:
    """The quantities of one step in the order they are computed, each as an on-device 'non-finite' flag."""

    def __init__(self):
        self.labels: list = []
        self.flags: list = []

    def add(self, label: str, value: torch.Tensor) -> None:
        self.labels.append(label)
        self.flags.append(~torch.isfinite(value).all())

    def vector(self) -> torch.Tensor:
        return torch.stack(self.flags).float()


class StepMonitor:
    def __init__(self, device: torch.device, world: World, lagged: bool | None = None):
        self.world = world
        self.cuda = device.type == "cuda"
        self.lagged = self.cuda if lagged is None else lagged
        self.flags = {False: torch.zeros(1, device=device), True: torch.ones(1, device=device)}
        self.pending = None  # (step, labels) whose vector is on its way to self.host
        self.host = self.event = None
        self.averaged = None  # the last step's logged values averaged over ranks, on the device

    def check(self, step: int, values: torch.Tensor, stop: bool, checks: Checks) -> Verdict | None:
        """Submit step ``step``; returns the verdict of this step (CPU) or of the previous one (CUDA)."""
        vector = torch.cat([values.detach().float(), self.flags[bool(stop)], checks.vector()])
        self.world.sum_(vector)
        self.averaged = vector[:len(LOGGED)] / self.world.size
        if not self.lagged:
            return self._verdict(step, vector.tolist(), checks.labels)
        previous = self.flush()
        if self.host is None or self.host.shape != vector.shape:
            self.host = torch.empty(vector.shape, pin_memory=self.cuda)
            self.event = torch.cuda.Event() if self.cuda else None
        self.host.copy_(vector, non_blocking=self.cuda)
        if self.event is not None:
            self.event.record()
        self.pending = (step, checks.labels)
        return previous

    def flush(self) -> Verdict | None:
        """The verdict still on its way (CUDA), waiting for it; None when there is none."""
        if self.pending is None:
            return None
        if self.event is not None:
            self.event.synchronize()
        (step, labels), self.pending = self.pending, None
        return self._verdict(step, self.host.tolist(), labels)

    def _verdict(self, step: int, vector: list, labels: list) -> Verdict:
        n = len(LOGGED)
        values = [v / self.world.size for v in vector[:n]]
        bad = [label for label, flag in zip(labels, vector[n + 1:]) if flag]
        culprit = bad[0] if bad else (None if all(map(math.isfinite, values)) else "a logged value")
        return Verdict(step, values, vector[n] > 0, culprit)


def explain(culprit: str, loss: str, enforcers: list, g_regs: tuple = ()) -> str:
    """The component most likely responsible for the first non-finite quantity."""
    where, _, phase = culprit.partition(" @")
    suffix = f" ({phase})" if phase else ""
    reasons = {
        "generator output": "the generator: its images became non-finite (its weights diverged)",
        "D(real)": "the discriminator: its score on real images became non-finite (its weights diverged)",
        "D(fake)": "the discriminator: its score on generated images became non-finite",
        "d_loss": f'the loss "{loss}", discriminator side (its value became non-finite)',
        "penalty": f"the Lipschitz penalty of {', '.join(enforcers) or 'the enforcers'} (it became non-finite)",
        "g_loss": f'the loss "{loss}", generator side (its value became non-finite)',
        "g_penalty": f"the generator regularizer {', '.join(g_regs) or '(none named)'} (its term became non-finite)",
    }
    return reasons.get(where, where) + suffix


def format_values(values: list) -> str:
    return ", ".join(f"{name} {value:.4g}" for name, value in zip(LOGGED, values))
