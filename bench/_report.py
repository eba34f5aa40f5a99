"""What the latency benches share: print a Report in the format `--format` names (markdown by default)."""

from mobcost.table import Format, render


def show(report, argv: list[str]) -> None:
    fmt = Format(argv[argv.index("--format") + 1]) if "--format" in argv else Format.markdown
    out = render(report, fmt)
    if isinstance(out, str):
        print(out)
    else:
        from rich.console import Console

        Console().print(out)
