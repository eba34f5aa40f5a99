import pytest
from typer.testing import CliRunner

from mobcost.cli import app


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch):
    """Render as to a pipe, whatever the CI environment says about colours and widths."""
    for name in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mobcost():
    """Run the CLI in-process: mobcost("table", "v1") → click Result with exit_code, stdout, stderr."""
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))
