"""A protobuf message read without its large fields: ONNX weights stored inside the file are stepped over, never
copied. protobuf parses a message whole, so `onnx.load` of a model with inline weights holds them all in memory; this
walks the wire format (https://protobuf.dev/programming-guides/encoding/) field by field over a memory map and copies
everything but the data of large initializers, which the onnx package then parses as usual.
"""

from __future__ import annotations

# ONNX's protobuf schema (onnx/onnx.proto): ModelProto.graph = 7; GraphProto.initializer = 5, sparse_initializer = 15;
# TensorProto's data: float_data 4, int32_data 5, string_data 6, int64_data 7, raw_data 9, double_data 10,
# uint64_data 11. Everything else is copied as it is.
# GraphProto.node = 1.
_GRAPH, _NODE, _INITIALIZERS, _TENSOR_DATA = 7, 1, {5, 15}, {4, 5, 6, 7, 9, 10, 11}
_KEEP_DATA = 1024  # bytes: a constant this small may decide a rule (Clip's bounds); a weight is larger


class TooMany(ValueError):
    """The graph holds more nodes or initializers than allowed: found while its bytes are walked, before protobuf
    parses (and holds in memory) the whole graph."""

    def __init__(self, what: str, limit: int):
        super().__init__(f"expected at most {limit:,} {what}")
        self.what, self.limit = what, limit


def without_weights(data, max_nodes: int | None = None, max_initializers: int | None = None) -> bytes:
    """The model's bytes with the data of every large initializer left out, read field by field from a memory map:
    protobuf parses a message whole, so `onnx.load` of a file with inline weights holds them all in memory. The
    main graph's nodes and initializers are counted as they are stepped over: TooMany past `max_nodes` or
    `max_initializers`, before anything more is read."""
    out = bytearray()
    for number, start, body, end in _fields(data, 0, len(data)):
        out += _stripped_graph(data, body, end, max_nodes, max_initializers) if number == _GRAPH else data[start:end]
    return bytes(out)


def _stripped_graph(data, start: int, end: int, max_nodes: int | None, max_initializers: int | None) -> bytes:
    graph = bytearray()
    nodes = initializers = 0
    for number, at, body, stop in _fields(data, start, end):
        if number == _NODE:
            nodes += 1
            if max_nodes is not None and nodes > max_nodes:
                raise TooMany("ONNX nodes", max_nodes)
        if number in _INITIALIZERS:
            initializers += 1
            if max_initializers is not None and initializers > max_initializers:
                raise TooMany("ONNX initializers", max_initializers)
            tensor = b"".join(data[a:b] for n, a, c, b in _fields(data, body, stop)
                              if n not in _TENSOR_DATA or b - c <= _KEEP_DATA)
            graph += _varint((number << 3) | 2) + _varint(len(tensor)) + tensor
        else:
            graph += data[at:stop]
    return _varint((_GRAPH << 3) | 2) + _varint(len(graph)) + bytes(graph)


def _fields(data, pos: int, end: int):
    """(field number, start of the field, start of its value, end) of each field of a protobuf message."""
    while pos < end:
        start = pos
        key, pos = _read_varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _read_varint(data, pos)
            body = start
        elif wire == 2:
            length, body = _read_varint(data, pos)
            pos = body + length
        elif wire in (1, 5):
            body, pos = pos, pos + (8 if wire == 1 else 4)
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {start}")
        if pos > end:
            raise ValueError(f"a field at byte {start} runs past the end of its message")
        yield key >> 3, start, body, pos


def _read_varint(data, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a truncated or overlong varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
