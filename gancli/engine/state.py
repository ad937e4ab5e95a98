"""Flattening training state (optimizers, RNG, data order) into safetensors tensors plus JSON, and back."""

from __future__ import annotations

import torch


class BatchSampler:
    """Indices of random batches: a fresh permutation per pass over the data, wrapping when needed."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size = n, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.perm = torch.arange(n)
        self.pos = n  # forces a new permutation on first use

    def next(self) -> torch.Tensor:
        parts, need = [], self.batch_size
        while need:
            if self.pos >= self.n:
                self.perm, self.pos = torch.randperm(self.n, generator=self.generator), 0
            take = min(need, self.n - self.pos)
            parts.append(self.perm[self.pos:self.pos + take])
            self.pos, need = self.pos + take, need - take
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def tensors(self) -> dict:
        return {"sampler.rng": self.generator.get_state(), "sampler.perm": self.perm,
                "sampler.pos": torch.tensor(self.pos)}

    def restore(self, tensors: dict) -> None:
        self.generator.set_state(tensors["sampler.rng"])
        self.perm, self.pos = tensors["sampler.perm"], int(tensors["sampler.pos"])


def optimizer_tensors(optimizer: torch.optim.Optimizer, prefix: str) -> tuple[dict, list]:
    """({prefix.PARAM.KEY: tensor}, param_groups as JSON-ready lists)."""
    state = optimizer.state_dict()
    tensors = {f"{prefix}.{idx}.{key}": value for idx, entry in state["state"].items()
               for key, value in entry.items()}
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in state["param_groups"]]
    return tensors, groups


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, prefix: str, groups: list) -> None:
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            idx, name = key[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(idx), {})[name] = value
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_tensors(device: torch.device) -> dict:
    tensors = {"rng.torch": torch.get_rng_state()}
    if device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
    return tensors


def restore_rng(tensors: dict, device: torch.device) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    if device.type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)
