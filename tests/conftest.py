import pytest

from gancli.plugins import reset_registry


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Each test starts with a freshly built registry, no third-party plugins and its own working folder."""
    monkeypatch.setenv("GANCLI_NO_PLUGINS", "1")
    monkeypatch.chdir(tmp_path)
    reset_registry()
    yield
    reset_registry()
