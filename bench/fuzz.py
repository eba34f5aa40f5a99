"""Time the fuzz run of tests/test_fuzz.py: its mutants through the CLI in-process, paired with the unmutated
configs through the same commands as the baseline, interleaved in one run.

    python bench/fuzz.py [mutants]
"""

import functools
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import typer.main
import typer.testing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_fuzz  # noqa: E402

from mobcost.cli import app  # noqa: E402


def main(mutants: int = test_fuzz.MUTANTS) -> None:
    typer.testing._get_command = functools.cache(typer.main.get_command)  # as the test does
    runner = typer.testing.CliRunner()
    test_fuzz.MUTANTS = mutants
    originals = [path.read_text(encoding="utf-8") for path in test_fuzz.CONFIGS]
    seconds, codes = Counter(), Counter()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        for text, command in test_fuzz.mutants(random.Random(test_fuzz.SEED)):
            for kind, body in (("mutant", text), ("baseline", random.choice(originals))):
                spec.write_text(body, encoding="utf-8", errors="surrogateescape")
                start = time.perf_counter()
                result = runner.invoke(app, [command[0], str(spec), *command[1:]])
                seconds[kind] += time.perf_counter() - start
                codes[kind, result.exit_code] += 1
    for kind in ("mutant", "baseline"):
        outcomes = ", ".join(f"exit {code}: {n:,}" for (k, code), n in sorted(codes.items()) if k == kind)
        print(f"{mutants:,} {kind}s: {seconds[kind]:.1f} s ({seconds[kind] / mutants * 1000:.1f} ms each); {outcomes}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
