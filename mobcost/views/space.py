"""A design space's tables: the distribution of its members' costs, their share within a budget, the Pareto
members, and every member as a CSV line. Builds mobcost.table.Report values; never prints."""

from __future__ import annotations

from mobcost.display import shows
from mobcost.space.explore import SpaceResult, columns
from mobcost.space.run import Members
from mobcost.space.spec import shown_value
from mobcost.table import Column, Report, exact

NAMES = {"macs": "Mult-Adds (M)", "params": "Parameters (M)", "memory": "Peak memory (kB)", "latency": "Latency (ms)"}
SHOWN = 20  # Pareto members a table shows (JSON has them all)
UNITS = {"macs": ("M", 10**6), "params": ("M", 10**6), "memory": (" kB", 1000), "latency": (" ms", 1)}
WORDS = {"macs": "Mult-Adds", "params": "parameters", "memory": "peak memory", "latency": "latency"}
AS_LITTLE = {"params": "as few parameters", "memory": "as little peak memory", "latency": "as little latency"}


def _scaled(metric: str):
    scale = UNITS[metric][1]
    return lambda v: f"{v / scale:,.1f}"


def _amount(metric: str, value) -> str:
    unit, scale = UNITS[metric]
    return f"{value / scale:,.1f}{unit}"


@shows(SpaceResult)
def space_table(result: SpaceResult) -> Report:
    """Min, quantiles and max of each cost over the members evaluated, with the space's size and the share within
    budget in the notes."""
    labels = ["min", *(f"{100 * q:g}%" if q != 0.5 else "median" for q in result.quantiles), "max"]
    rows = [{"stat": label, **{m: result.distribution[m][i].item() for m in result.metrics}}
            for i, label in enumerate(labels)]
    cols = (Column("stat", "Members"), *(Column(m, NAMES[m], _scaled(m), True) for m in result.metrics))
    how = (f"all {result.evaluated:,} members enumerated" if result.exhaustive else
           f"{result.evaluated:,} members drawn uniformly (seed {result.seed}): every member equally likely, a "
           "stage's depth weighted by its number of members")
    only = f", only {result.space.restricted}" if result.space.fixed else ""
    notes = [f"{result.space.title}{only}: {result.size:,} members ({result.space.source}). {how.capitalize()}. "
             "Quantiles are exact values of the members evaluated (the value at rank ⌈q·N⌉); min and max are theirs."]
    notes.append(f"Peak memory: the largest live set of activations, one image, {result.dtype} "
                 "(`mobcost memory`'s rule); kB = 10³ bytes." +
                 (f" Latency: estimated on {result.device} (`mobcost latency`), not measured." if result.device
                  else ""))
    given = result.budget.given()
    if given:
        within = ", ".join(f"{WORDS[m]} ≤ {_amount(m, v)}" for m, v in given.items())
        notes.append(f"Within budget ({within}): {result.within:,} of {result.evaluated:,} = "
                     f"{100 * result.share:.4g}%" + (" of the space" if result.exhaustive else " of the draw") +
                     f"; {_members(len(result.front.get('macs', ())))} on the Pareto front, the most Mult-Adds "
                     f"for their {WORDS[result.cost]}.")
    data = {"space": result.space.name, "title": result.space.title, "source": result.space.source,
            "fixed": {field: list(values) for field, values in result.space.fixed},
            "size": result.size, "exhaustive": result.exhaustive, "evaluated": result.evaluated, "seed": result.seed,
            "device": result.device, "dtype": result.dtype,
            "quantiles": list(result.quantiles),
            "distribution": {m: {label: result.distribution[m][i].item() for i, label in enumerate(labels)}
                             for m in result.metrics},
            "budget": given, "within": result.within, "share": result.share, "pareto_cost": result.cost,
            "pareto": front_records(result)}
    title = f"Space {result.space.name}{f' ({result.space.restricted})' if result.space.fixed else ''}: " \
            f"{result.size:,} members"
    return Report(title, cols, rows, data, notes=tuple(notes))


def _members(n: int) -> str:
    return f"{n:,} member" + ("" if n == 1 else "s")


def front_records(result: SpaceResult) -> list[dict]:
    """The Pareto members, one dict each: member number, costs, every choice (None where a block is dropped)."""
    front = result.front
    if not front:
        return []
    return [{key: (value.item() if hasattr(value, "item") else value) for key, value in
             ((key, front[key][i]) for key in front)} for i in range(len(front["macs"]))]


def choices_text(record: dict, result: SpaceResult) -> str:
    """A member's choices, compactly: the global ones, then each stage's depth and its blocks' values."""
    space = result.space
    parts = [f"{c.field} {shown_value(record[c.field])}" for c in space.globals]
    for stage in space.stages:
        if not (stage.stage_choices or stage.block_choices or len(stage.depths) > 1):
            continue
        bits = []
        if stage.split and len(stage.depths) > 1:
            bits.append(f"n{record[f'{stage.label}.n']}")
        bits += [f"{c.field}={_short(record[f'{stage.label}.{c.field}'], c)}" for c in stage.stage_choices]
        for b in range(stage.blocks):
            prefix = f"{stage.label}.{b + 1}." if stage.split else f"{stage.label}."
            if record.get(prefix + "zero"):
                bits.append("zero")
            elif stage.block_choices and record[prefix + stage.block_choices[0].field] is not None:
                bits.append("/".join(shown_value(record[prefix + c.field]) for c in stage.block_choices))
        parts.append(f"{stage.label}: {' '.join(bits)}")
    return "; ".join(parts)


def _short(value, choice) -> str:
    """A stage's value as the Choices column shows it: a mapping (an `se:`) by its place among the choice's values."""
    return f"#{choice.values.index(value) + 1}" if isinstance(value, dict) else shown_value(value)


def pareto_table(result: SpaceResult) -> Report:
    """The Pareto members within budget: Mult-Adds against the cost, with each member's choices."""
    records = front_records(result)
    shown = records if len(records) <= SHOWN else [records[round(i * (len(records) - 1) / (SHOWN - 1))]
                                                    for i in range(SHOWN)]
    rows = [{"member": r["member"], "macs": r["macs"], "cost": r[result.cost], "choices": choices_text(r, result)}
            for r in shown]
    cols = (Column("member", "Member", exact, True), Column("macs", NAMES["macs"], _scaled("macs"), True),
            Column("cost", NAMES[result.cost], _scaled(result.cost), True), Column("choices", "Choices", wrap=True))
    fields = next(("/".join(c.field for c in stage.block_choices) for stage in result.space.stages
                   if stage.split and stage.block_choices), "")
    blocks = f", then each block's {fields}" if fields else ""
    notes = (f"Within budget, no other member evaluated has more Mult-Adds for {AS_LITTLE[result.cost]}. Choices: "
             f"each stage's depth (n) and its own choices (#k: the choice's k-th value){blocks}; `zero` a block "
             f"skipped. Member numbers are the draw's (seed "
             f"{result.seed}) or the enumeration's." + (f" {SHOWN} of the {len(records):,} shown, evenly along "
                                                        "the front; -f json lists them all." if len(records) > SHOWN
                                                        else ""),)
    return Report(f"Pareto members of {result.space.name}: Mult-Adds for {WORDS[result.cost]}",
                  cols, rows, {"pareto": records}, notes=notes)


def member_header(result_space, metrics) -> str:
    """The CSV header of every member: its number, its choices, its costs."""
    units = {"macs": "macs", "params": "params", "memory": "memory_bytes", "latency": "latency_ms"}
    return ",".join(["member", *result_space.columns(), *(units[m] for m in metrics)])


def member_lines(space, members: Members, values: dict, metrics) -> str:
    """Every member of a chunk as CSV lines (choices as written in the space; empty where a block is dropped)."""
    import numpy as np

    cols = []
    for name, (choice_values, index) in columns(space, members).items():
        table = np.array([_csv(shown_value(v)) for v in choice_values] + [""], dtype=object)
        cols.append(table[np.where(index < 0, len(choice_values), index)])
    text = [members.index.astype(str), *cols]
    for metric in metrics:
        v = values[metric]
        text.append(v.astype(str) if v.dtype.kind == "i" else np.char.mod("%.6f", v))
    return "".join(",".join(map(str, row)) + "\n" for row in zip(*text))


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if "," in text or '"' in text else text
