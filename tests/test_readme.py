"""The README's promises: its test command is what CI runs, and its example numbers are mobcost's."""

from pathlib import Path

import mobcost

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    blocks = README.split("```sh\n")
    install, tests = blocks[1].split("\n```")[0], blocks[2].split("\n```")[0]
    assert install == "pip install . && mobcost table v1 --alpha 0.5 --res 160"
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_readme_example_totals():
    result = mobcost.analyze("v1", alpha=0.5, resolution=160)
    assert f"**{result.macs:,}** | **{result.params:,}**" in README
