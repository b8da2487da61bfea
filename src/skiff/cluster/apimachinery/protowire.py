"""The protobuf wire format, just enough to read Kubernetes' messages (and their descriptors)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from skiff.cluster.apimachinery.errors import bad_request

VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise bad_request("protobuf: unexpected end of data in a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise bad_request("protobuf: varint overflow")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value): ints for varint/fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire, value
        elif wire == LENGTH:
            size, pos = read_varint(data, pos)
            if pos + size > len(data):
                raise bad_request("protobuf: length-delimited field runs past the end")
            yield number, wire, data[pos:pos + size]
            pos += size
        elif wire == FIXED64:
            yield number, wire, struct.unpack_from("<Q", data, pos)[0]
            pos += 8
        elif wire == FIXED32:
            yield number, wire, struct.unpack_from("<I", data, pos)[0]
            pos += 4
        else:
            raise bad_request(f"protobuf: unsupported wire type {wire}")


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def double(value: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", value))[0]


def float32(value: int) -> float:
    return struct.unpack("<f", struct.pack("<I", value))[0]


# Writing: what the OpenAPI v2 protobuf encoder needs (proto3: callers leave out zero values).

def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s go out as ten-byte two's complement, as Go writes them
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint_field(number: int, value: int) -> bytes:
    return varint(number << 3 | VARINT) + varint(value)


def bytes_field(number: int, value: bytes) -> bytes:
    return varint(number << 3 | LENGTH) + varint(len(value)) + value


def double_field(number: int, value: float) -> bytes:
    return varint(number << 3 | FIXED64) + struct.pack("<d", value)
