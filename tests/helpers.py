"""Shared test helpers: running the CLI in-process with tiny, fast settings."""

from click.testing import CliRunner

from gancli.cli import cli

TINY = ["--data-opt", "size=16", "--arch-opt", "width=4", "--batch-size", "8", "--log-every", "1"]


def run(*args):
    """Invoke gancli; returns the Click result (exit_code, output with stderr mixed in)."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(result, fragment: str) -> None:
    """Bad input: exit code 1, a single 'Error:' line naming the problem, no traceback."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and fragment in lines[0], result.output
    assert "Traceback" not in result.output


def toy_style_generator(z_dim: int = 6, w_dim: int = 5, num_ws: int = 3, side: int = 4, channels: int = 1):
    """A tiny generator with the W spaces of gancli.latents (mapping, synthesis, num_ws, w_dim, w_avg): what the
    seam's tests need of a style-based generator, without training one."""
    import torch
    from torch import nn

    class ToyStyleGenerator(nn.Module):
        def __init__(self):
            super().__init__()
            self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
            self.map = nn.Sequential(nn.Linear(z_dim, w_dim), nn.Tanh(), nn.Linear(w_dim, w_dim))
            self.layers = nn.ModuleList(nn.Linear(w_dim, channels * side * side) for _ in range(num_ws))
            self.register_buffer("w_avg", torch.zeros(w_dim))
            self.shape = (channels, side, side)

        def mapping(self, z, labels=None):
            return self.map(z)

        def synthesis(self, ws, noise=None):
            out = sum(layer(ws[:, i]) for i, layer in enumerate(self.layers))
            return torch.tanh(out).view(ws.shape[0], *self.shape)

        def style_weights(self):
            return [layer.weight for layer in self.layers]

        def forward(self, z, labels=None):
            w = self.mapping(z, labels)
            return self.synthesis(w.unsqueeze(1).repeat(1, self.num_ws, 1))

    torch.manual_seed(0)
    G = ToyStyleGenerator().eval()
    with torch.no_grad():
        G.w_avg.copy_(G.mapping(torch.randn(1000, z_dim)).mean(0))
    return G
