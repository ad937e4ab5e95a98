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
