"""Published figures and budgets: the check table, and the same as GitHub Actions workflow commands."""

from __future__ import annotations

from mobcost.check import CheckResult
from mobcost.output import printable
from mobcost.table import Column, Report


STATUSES = ("ok", "erratum", "fail")


def check_table(results: list[CheckResult], empty: list[str] = ()) -> Report:
    """One row per published figure or budget limit; `empty` names the models that had nothing to check."""
    columns = (Column("model", "Model", hide=1, wrap=True), Column("figure", "Figure", wrap=True),
               Column("source", "Source", hide=2, wrap=True),
               Column("published", "Published", numeric=True),
               Column("computed", "Computed", numeric=True),
               Column("status", "Status"), Column("note", "Note", prose=True))
    rows = [{**r.to_dict(), **dict(zip(("published", "computed"), r.shown()))} for r in results]
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    summary = (f"{counts['ok']} agree, {counts['erratum']} known errata (the source disagrees with its own "
               f"arithmetic, as the note explains), {counts['fail']} failed.")
    colors = {"ok": "green", "erratum": "yellow", "fail": "bold red"}
    return Report("Published figures and budgets", columns, rows,
                  {"results": [r.to_dict() for r in results], "summary": {**counts, "empty": list(empty)}},
                  notes=(summary,), style=lambda row: colors[row["status"]])


def github_annotations(results: list[CheckResult], empty: list[tuple[str, str]] = ()) -> str:
    """GitHub Actions workflow commands: an error per failed figure or limit at its spec line, a notice per erratum
    (https://docs.github.com/actions/reference/workflow-commands-for-github-actions). Every value is made printable
    on one line (output.printable: controls and bidi removed, newlines as spaces), then escaped as the workflow
    commands want (`%`, CR, LF; in properties also `:` and `,`), so no text from a spec starts a command of its own."""
    def escape(text: str, prop: bool = False) -> str:  # printable on one line first: no control reaches the log
        text = printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    lines = []
    for r in results:
        if r.status == "ok":
            continue
        where = [f"file={escape(r.file, True)}"] * bool(r.file) + [f"line={r.line}"] * bool(r.line)
        published, computed = r.shown()
        message = f"{r.model}, {r.figure} ({r.source}): published {published}, computed {computed}" + (
            f": {r.note}" if r.note else "")
        level = "error" if r.status == "fail" else "notice"
        title = escape(f"mobcost check: {r.status}", True)
        lines.append(f"::{level} {','.join([*where, f'title={title}'])}::{escape(message)}")
    lines += [f"::error file={escape(file, True)},title={escape('mobcost check: nothing to check', True)}::"
              f"{escape(message)}" for file, message in empty]
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    lines.append(f"{counts['ok']} agree, {counts['erratum']} known errata, {counts['fail']} failed"
                 + (f", {len(empty)} with nothing to check" if empty else "") + ".")
    return "\n".join(lines)
