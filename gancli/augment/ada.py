"""The augmentation probability: fixed, or steered by ADA's overfitting heuristic (Karras et al. 2020).

ADA measures r_t = E[sign(D(real))] over the last few steps: near 0 while the discriminator cannot tell the
training images from fakes, near 1 once it has memorised them. Every ``INTERVAL`` generator steps p moves up when
r_t exceeds the target (0.6) and down otherwise, by a step that lets it cross 0 -> 1 in ``kimg`` thousand real
images shown to the discriminator.

The state (p, and the running sum and count of signs since the last adjustment) lives in one small tensor on the
training device, so adjusting p never waits for the device, and a checkpoint saves it whole: a resumed run goes on
with the p it had, not from 0.
"""

from __future__ import annotations

import torch

INTERVAL = 4  # generator steps between adjustments, as StyleGAN2-ADA's ada_interval


class AugmentProbability:
    """``p`` for the augmentations; ``adaptive`` moves it with ADA's heuristic, otherwise it stays fixed."""

    def __init__(self, initial: float, device, adaptive: bool = False, target: float = 0.6, kimg: float = 100.0,
                 images_per_step: int = 1):
        self.adaptive, self.target = adaptive, target
        self.rate = INTERVAL * images_per_step / (kimg * 1000)  # change of p per adjustment
        # p, sum of sign(D(real)) and number of scores since the last adjustment, r_t of the last adjustment
        self.state = torch.tensor([initial, 0.0, 0.0, 0.0], device=device)

    @property
    def p(self) -> torch.Tensor:
        return self.state[0]

    def observe(self, real_out: torch.Tensor) -> None:
        """Add one discriminator step's scores on real images to the running statistic."""
        if self.adaptive:
            signs = torch.sign(real_out.detach().float())
            self.state[1] += signs.sum()
            self.state[2] += signs.numel()

    def adjust(self, step: int, world) -> None:
        """Every INTERVAL generator steps: r_t over every rank's scores, then p one step towards the target."""
        if not self.adaptive or step % INTERVAL:
            return
        totals = self.state[1:3].clone()
        world.sum_(totals)
        rt = totals[0] / totals[1].clamp(min=1)
        p = (self.state[0] + torch.sign(rt - self.target) * self.rate).clamp(0, 1)
        self.state = torch.stack([p, torch.zeros_like(p), torch.zeros_like(p), rt])

    def record(self) -> dict:
        """What metrics.jsonl logs (reads the device)."""
        values = self.state.tolist()
        return {"augment_p": round(values[0], 6), **({"augment_rt": round(values[3], 4)} if self.adaptive else {})}

    def tensors(self) -> dict:
        return {"augment.state": self.state.detach().clone()}

    def restore(self, tensors: dict) -> None:
        self.state = tensors["augment.state"].to(self.state.device, self.state.dtype).clone()
