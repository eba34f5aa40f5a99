"""Where a validation error is and what it says: file, line and column, layer and field, and the closest valid name."""

from __future__ import annotations

import difflib
from dataclasses import replace
from typing import get_args

from pydantic import BaseModel

from mobcost.layers import LAYER_KINDS, kind_of
from mobcost.errors import Path_, Problem, listed, shown

KINDS = {kind.model_fields["kind"].default: kind for kind in LAYER_KINDS}


def error_problem(file: str, data, positions: dict, err: dict, root: type[BaseModel]) -> Problem:
    """One pydantic error as a Problem, at the layer's `kind` when that is what is wrong; `root` is the model the
    location starts from (the Network)."""
    loc, value = err["loc"], err.get("input")
    if err["type"] == "layer_kind" and isinstance(value, dict) and "kind" in value:
        loc += ("kind",)
    return problem_at(file, data, positions, loc, None, error_message(err, root),
                      names_key=err["type"] in ("missing", "extra_forbidden"))


def error_message(err: dict, root: type[BaseModel]) -> str:
    """What was expected and what was found; for a misspelled kind or field, the closest valid name."""
    if err["type"] == "layer_kind":
        return _kind_message(err.get("input"))
    if err["type"] == "missing":
        return "is required but missing"
    if err["type"] == "extra_forbidden":
        return _unknown_field(err["loc"], root)
    expected = err["msg"].removeprefix("Value error, ")
    if expected.startswith("Input should be "):
        expected = "expected " + expected.removeprefix("Input should be ")
    return f"{expected}; found {found_text(err.get('input'))}"


def found_text(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    text = {None: "null", True: "true", False: "false"}.get(value, repr(value)) if isinstance(value, (bool, type(None))) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


MAX_SUGGESTED = 1_000  # names a suggestion is looked for among: the first this many, each shortened
SUGGESTION_CHARS = 64  # characters of each name (and of the misspelling) compared


def nearest(name, valid, cutoff: float = 0.6) -> str | None:
    """The valid name closest to a misspelled one, if any is close: compared on their first SUGGESTION_CHARS
    characters, among the first MAX_SUGGESTED distinct names so shortened, so that the work is bounded whatever
    the spec (9,000 names of 190 characters took 20 s of difflib before)."""
    shortened: dict[str, str] = {}
    for full in valid:
        shortened.setdefault(str(full)[:SUGGESTION_CHARS], full)
        if len(shortened) == MAX_SUGGESTED:
            break
    close = difflib.get_close_matches(str(name)[:SUGGESTION_CHARS], list(shortened), n=1, cutoff=cutoff)
    return shortened[close[0]] if close else None


def did_you_mean(name, valid) -> str:
    close = nearest(name, valid)
    return f"; did you mean {shown(close)!r}?" if close else ""


def _kind_message(value) -> str:
    kinds = listed(KINDS)
    if not isinstance(value, dict):
        return f"expected a layer as a mapping such as {{kind: conv, out: 32}}; found {found_text(value)}"
    if "kind" not in value:
        return f"expected a 'kind' (one of {kinds}) or 'repeat'; found neither"
    return f"unknown layer kind {found_text(value['kind'])}; expected one of {kinds}{did_you_mean(value['kind'], KINDS)}"


def _unknown_field(loc: Path_, root: type[BaseModel]) -> str:
    model = _model_at(loc[:-1], root)
    if model is None:
        return "is not a field here"
    what = f"of a {model.model_fields['kind'].default!r} layer" if model in LAYER_KINDS else "here"
    fields = [field.alias or name for name, field in model.model_fields.items()]
    return f"is not a field {what}{did_you_mean(loc[-1], fields)} Expected one of: {listed(fields)}"


def _model_at(loc: Path_, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model whose fields are valid at an error location, found by walking the spec's types along it (from
    the network, or from a layer kind when the location starts with one, as a variant's `set` does)."""
    model = KINDS[loc[0]] if loc and loc[0] in KINDS else root
    for part in loc:
        if model in LAYER_KINDS and part in KINDS:
            model = KINDS[part]  # the discriminator's tag names the layer's kind
        elif isinstance(part, str) and part in model.model_fields:
            model = _first_model(model.model_fields[part].annotation)
            if model is None:
                return None
    return model


def _first_model(hint) -> type[BaseModel] | None:
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint
    return next(filter(None, map(_first_model, get_args(hint))), None)


def merged(problems: list[Problem]) -> list[Problem]:
    """One problem per place: the branches of a union (`padding: same | valid | pixels`) fail together."""
    merged: list[Problem] = []
    for p in problems:
        expected, _, found = p.message.rpartition("; found ")
        last = merged[-1] if merged else None
        if last and (last.line, last.column, last.layer, last.field) == (p.line, p.column, p.layer, p.field) \
                and expected.startswith("expected ") and last.message.endswith(f"; found {found}"):
            merged[-1] = replace(last, message=last.message.removesuffix(f"; found {found}")
                                 + f", or {expected.removeprefix('expected ')}; found {found}")
        else:
            merged.append(p)
    return merged


def problem_at(file: str, data, positions: dict, loc: Path_, field: str | None, message: str,
               names_key: bool = True) -> Problem:
    """Walk an error's location through the data: the real path (skipping union tags), the layer and the field.
    A last part that the data does not have is the missing or misspelled key the error is about when `names_key`,
    else a union member's tag (`function-after[check(), constrained-int]`), which is pydantic's, not the spec's."""
    path: list = []
    layer = found = tag = None
    node = data
    for i, part in enumerate(loc):
        if part == tag:  # pydantic names the union member right after the layer's index
            tag = None
            continue
        tag = None
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if path and (path[-1] in ("layers", "shortcut") or path[-2:-1] == ["branches"]):
                name, kind = (node.get("name"), kind_of(node)) if isinstance(node, dict) else (None, None)
                name, kind = (v if isinstance(v, str) else None for v in (name, kind))
                index = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path + [part]).lstrip(".")
                layer = f"layer {index}" + (f" ({name!r})" if name else f" ({kind})" if kind else "")
                found, tag = None, kind_of(node)
        elif isinstance(node, dict) and i == len(loc) - 1 and names_key:
            found = part if found is None else f"{found}.{part}"  # a missing or misspelled key
            break
        else:
            continue  # a discriminator tag in the location
        path.append(part)
        if isinstance(part, str):
            found = part if found is None else f"{found}.{part}"
    line_col = next((positions[tuple(path[:end])] for end in range(len(path), -1, -1)
                     if tuple(path[:end]) in positions), (None, None))
    return Problem(file, message, *line_col, layer=layer, field=field or found)
