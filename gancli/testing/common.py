"""What every contract check shares: the error type and turning a class plus options into an instance."""

from __future__ import annotations

import functools

from ..options import resolve, to_kwargs


class ContractError(AssertionError):
    """A component breaks a promise gancli relies on; the message says which and how to fix it."""


def require(condition, message: str) -> None:
    if not condition:
        raise ContractError(message)


def instantiate(component, interface, options=None):
    """``(instance, class)`` from a class (built with ``options`` through its schema, as the trainer does)
    or from an instance (``options`` must then be empty)."""
    if isinstance(component, type):
        require(issubclass(component, interface),
                f"{component.__name__} must be a subclass of gancli.{interface.__name__}")
        values = resolve(component.Options, dict(options or {}), f"{component.__name__}")
        return component(**to_kwargs(component.Options, values)), component
    require(isinstance(component, interface),
            f"{type(component).__name__} must be an instance of gancli.{interface.__name__}")
    require(not options, "pass options only with a class; an instance already has its options")
    return component, type(component)


def one_thread(check):
    """Run a check with one torch thread: its tensors are tiny, and on a busy machine several threads
    wait on each other far longer than the work takes (a 0.05 s check took 3 s with two)."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return check(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper
