"""What balancing attribute combinations (gancli.classifiers.balance) buys and costs, on faces and on a
CelebA-like synthetic set; figures quoted in docs/controllable.md ("Balanced attribute combinations").

    python bench/balance.py            # about 4 minutes on one thread

- faces: the attributes of the 20,000 faces of pretrained:faces' data (seed 0, correlation 0.6);
- CelebA-like: 160,000 images x 40 yes/no attributes, frequencies from 0.3% to 76%, tied together by five
  hidden Gaussian factors (CelebA itself is not downloaded), balanced with the weight cap at 5, 20 (the
  default), 100 and none.

For each: the largest and the mean absolute pairwise correlation before and under the weights, the effective
sample size (Σw)²/Σw² as a share of the images, the largest shift of an attribute's frequency and the time.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gancli.classifiers.balance import balance_weights, weighted_correlation  # noqa: E402
from gancli.data.faces import draw_attributes  # noqa: E402


def celeba_like(n: int = 160_000, a: int = 40, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    factors = torch.randn(n, 5, generator=gen)
    loadings = 0.5 * torch.randn(5, a, generator=gen)
    bias = torch.linspace(-3.0, 1.0, a)
    return (factors @ loadings + bias + torch.randn(n, a, generator=gen) > 0).float()


def report(label: str, x: torch.Tensor, max_weight: float) -> None:
    started = time.perf_counter()
    weights, balance = balance_weights(x, max_weight=max_weight)
    seconds = time.perf_counter() - started
    off = ~torch.eye(x.shape[1], dtype=torch.bool)
    before, after = weighted_correlation(x)[off].abs(), weighted_correlation(x, weights)[off].abs()
    print(f"| {label} | {max_weight:g} | {float(before.max()):.3f} → {float(after.max()):.3f} | "
          f"{float(before.mean()):.4f} → {float(after.mean()):.4f} | {balance.effective_sample_fraction:.1%} | "
          f"{balance.max_margin_shift:.4f} | {float(weights.max()):.1f} | {balance.clipped} | {seconds:.0f} s |",
          flush=True)


def main() -> None:
    torch.set_num_threads(1)
    print("| data | weight cap | max abs correlation | mean abs correlation | effective sample | margin shift "
          "| largest weight | capped | time |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    faces = torch.from_numpy(draw_attributes(20_000, np.random.default_rng(0), 0.6, 0.4, 0.4))
    report("faces (20,000, correlation 0.6)", faces, 20.0)
    x = celeba_like()
    print(f"(CelebA-like: frequencies {float(x.mean(0).min()):.3f} to {float(x.mean(0).max()):.3f})", file=sys.stderr)
    for cap in (5.0, 20.0, 100.0, float("inf")):
        report("CelebA-like (160,000 x 40)", x, cap)


if __name__ == "__main__":
    main()
