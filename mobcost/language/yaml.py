"""The one safe YAML reader: every limit on a spec's text is checked here, before anything is built from it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from mobcost.limits import LIMIT, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_NUMBER_CHARS, MAX_TEXT_CHARS, decimal_of
from mobcost.errors import Path_, Problem, SpecError, shown

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_spec_file(path: Path) -> str:
    """A spec file's text, refusing folders, pipes, devices, files over the size limit and text that is not UTF-8."""
    file = str(path)
    try:
        info = path.stat()  # before opening: opening a pipe would wait for a writer
        if stat.S_ISDIR(info.st_mode):
            raise SpecError([Problem(file, "is a folder; expected a YAML spec file")])
        if not stat.S_ISREG(info.st_mode):
            raise SpecError([Problem(file, "is a device, pipe or socket; expected a YAML spec file")])
        if info.st_size > MAX_FILE_BYTES:
            raise too_big(file, info.st_size)
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except FileNotFoundError:
        raise SpecError([Problem(file, "no such file")]) from None
    except OSError as e:
        raise SpecError([Problem(file, f"cannot be read: {e.strerror}")]) from None
    return decode_spec(raw, file)


def decode_spec(raw: bytes, file: str) -> str:
    """A spec's bytes as text, or the line and column of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line_start = raw.rfind(b"\n", 0, e.start) + 1
        column = len(raw[line_start:e.start].decode("utf-8", "replace")) + 1
        raise SpecError([Problem(file, f"is not UTF-8 text: expected UTF-8, found the byte 0x{raw[e.start]:02x} "
                                       "(save the spec as UTF-8)", raw.count(b"\n", 0, e.start) + 1, column)]) from None


def compose(text: str, file: str) -> tuple[object, dict[Path_, tuple[int, int]], list[Path_]]:
    """A spec's YAML text as plain data, with the line and column of every value and the paths of repeated keys;
    the text is refused from its parse events first if it is too deep, too large once its aliases are expanded, or
    tagged with anything but plain data."""
    if len(text) > MAX_FILE_BYTES:
        raise too_big(file, len(text))
    try:
        check_events(text, file)
        loader = SpecLoader(text)
        try:
            node = loader.get_single_node()
            positions, repeated = positions_of(node)  # before constructing, which merges `<<:` keys into the node
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        raise yaml_problem(file, text, e) from None
    return data, positions, repeated


class SpecLoader(Loader):
    """The safe loader with YAML 1.2's core schema for plain scalars: `true`/`false` are the only booleans,
    integers are decimal without leading zeros, and there are no dates. So YAML 1.1's `on`, `yes`, `off`, octal
    `064` and sexagesimal `3:44` stay text, which a number field refuses, rather than becoming 1, 0, 52 and 224."""


_CORE_RESOLVERS = [  # (tag, pattern, first characters), in the order they are tried
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?(?:0|[1-9][0-9]*)", "-+0123456789"),
    ("float", r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
     "-+.0123456789"),
    ("null", r"~|null|Null|NULL|", "~nN"),
]
SpecLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in _CORE_RESOLVERS:
    SpecLoader.add_implicit_resolver("tag:yaml.org,2002:" + _tag, re.compile(f"^(?:{_pattern})$"), list(_first))
SpecLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile("^$"), [""])
SpecLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile("^<<$"), ["<"])
_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = {None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))}
_NUMBER_TAGS = (_CORE + "int", _CORE + "float")
_TYPED_TAGS = {_CORE + "int": "a whole number such as 32", _CORE + "float": "a number such as 0.5 or 1e-4",
               _CORE + "bool": "true or false", _CORE + "null": "null, ~ or nothing"}
_START_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NODE_EVENTS = (yaml.ScalarEvent, *_START_EVENTS)


def check_events(text: str, file: str) -> None:
    """Refuse from the parse events alone, before anything is built: a spec too deep or too large once its
    aliases are expanded ("billion laughs"), an alias inside its own anchor (a cycle), a tag that is not plain
    data or a tagged value that is not what its tag says, a number too long to read, or any text too long."""
    loader = SpecLoader(text)
    anchors: dict[str, tuple[int, int] | None] = {}  # anchor → (values, depth) it expands to; None while open
    open_: list[list] = []  # collections being read, outermost first: [values, depth below, anchor]
    aliased = False

    def refuse(event, message: str) -> SpecError:
        return SpecError([Problem(file, message, event.start_mark.line + 1, event.start_mark.column + 1)])

    try:
        while loader.check_event():
            event = loader.get_event()
            kind = type(event)
            if kind in _NODE_EVENTS and event.tag not in _PLAIN_TAGS:
                raise refuse(event, _tag_message(event.tag))
            if kind is yaml.ScalarEvent:
                _check_scalar(loader, event, refuse)
                values, depth, anchor = 1, 0, event.anchor
            elif kind in _START_EVENTS:
                open_.append([1, 0, event.anchor])
                if event.anchor is not None:
                    anchors[event.anchor] = None
                if len(open_) > MAX_DEPTH:
                    raise refuse(event, f"expected mappings and lists nested at most {MAX_DEPTH} levels deep {LIMIT}; "
                                        "found more")
                continue
            elif kind in _END_EVENTS:
                values, depth, anchor = open_.pop()
                depth += 1
            elif kind is yaml.AliasEvent:
                if event.anchor in anchors and anchors[event.anchor] is None:
                    raise refuse(event, f"the alias *{shown(event.anchor)} is inside the value its anchor "
                                        f"&{shown(event.anchor)} names, which would make that value contain itself "
                                        "for ever; expected an alias only after its anchor's value ends")
                (values, depth), anchor, aliased = anchors.get(event.anchor) or (1, 0), None, True
                if len(open_) + depth > MAX_DEPTH:
                    raise refuse(event, f"expected mappings and lists nested at most {MAX_DEPTH} levels deep {LIMIT}; "
                                        f"found more once the alias *{shown(event.anchor)} is expanded")
            else:
                continue  # stream and document events
            if anchor is not None:
                anchors[anchor] = (values, depth)
            if open_:
                parent = open_[-1]
                parent[0] += values
                parent[1] = max(parent[1], depth)
                if parent[0] > MAX_NODES:
                    raise refuse(event, f"expected at most {MAX_NODES:,} YAML values {LIMIT}; found more"
                                        + (" once its aliases (*name) are expanded" if aliased else ""))
    finally:
        loader.dispose()


def _check_scalar(loader, event, refuse) -> None:
    """A scalar within the length limits, and, when tagged (`!!int 32`), written as its tag says."""
    value, tag = event.value, event.tag
    plain = loader.resolve(yaml.ScalarNode, value, (True, False))  # what the text is without its tag
    if tag in (None, "!") and event.implicit[0]:
        tag = plain
    elif tag in _TYPED_TAGS and plain != tag and not (tag == _CORE + "float" and plain == _CORE + "int"):
        raise refuse(event, f"the tag !!{tag.removeprefix(_CORE)} needs {_TYPED_TAGS[tag]}; "
                            f"found {shown(value)!r}")
    if tag in _NUMBER_TAGS and len(value) > MAX_NUMBER_CHARS:
        raise refuse(event, f"expected a number of at most {MAX_NUMBER_CHARS} characters {LIMIT}; "
                            f"found one of {len(value):,}")
    if tag in _NUMBER_TAGS and "inf" not in value.lower() and "nan" not in value.lower() and decimal_of(value) is None:
        raise refuse(event, f"expected a number with a decimal exponent of at most ±{MAX_NUMBER_CHARS} {LIMIT}; "
                            f"found {shown(value)} (which would silently become 0 or infinity)")
    if len(value) > MAX_TEXT_CHARS:
        raise refuse(event, f"expected a value of at most {MAX_TEXT_CHARS:,} characters {LIMIT}; "
                            f"found one of {len(value):,}")


def too_big(file: str, size: int) -> SpecError:
    return SpecError([Problem(file, f"is {size:,} bytes; expected a YAML spec of at most {MAX_FILE_BYTES:,} bytes {LIMIT}")])


def _tag_message(tag: str) -> str:
    # a tag's %-escapes are decoded by PyYAML (`!<%0A::error::X>` holds a newline): shown on one line, cut
    written = shown("!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag, 200)
    if tag.startswith(_CORE + "python/"):
        return (f"expected plain data; found the tag {written}, which asks YAML to build a Python object "
                "(mobcost reads mappings, lists, strings, numbers, true/false and null, and never builds objects)")
    return f"expected plain data (mappings, lists, strings, numbers, true/false and null); found the tag {written}"


def yaml_problem(file: str, text: str, e: yaml.YAMLError) -> SpecError:
    if isinstance(e, yaml.reader.ReaderError):
        code = e.character if isinstance(e.character, int) else ord(e.character)
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        return SpecError([Problem(file, f"is not valid YAML: found the character U+{code:04X}, which YAML does not "
                                        f"allow ({e.reason}); expected printable text", line, column)])
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        return SpecError([Problem(file, f"is not valid YAML: {e.problem or e.context}",
                                  mark.line + 1 if mark else None, mark.column + 1 if mark else None)])
    return SpecError([Problem(file, f"is not valid YAML: {e}")])


def positions_of(root) -> tuple[dict[Path_, tuple[int, int]], list[Path_]]:
    """Line and column (1-based) of every value of a composed YAML document by its path of keys and indices,
    and the paths of repeated keys. Aliased nodes are walked once per use, which
    check_events has bounded."""
    if root is None:
        return {}, []
    found, repeated, todo = {(): _mark(root)}, [], [((), root)]
    while todo:
        path, node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                here = path + (key.value,)
                if key.value in seen:
                    repeated.append(here)
                seen.add(key.value)
                found[here] = _mark(value)
                todo.append((here, value))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                found[path + (i,)] = _mark(value)
                todo.append((path + (i,), value))
    return found, sorted(set(repeated), key=found.get)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
