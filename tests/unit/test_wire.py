"""The wire format between judge and worker: arrays in JSON, length-prefixed frames."""

from __future__ import annotations

import json
import os
import struct
import threading

import numpy as np
import pytest

from judge.runtime.wire import (
    MAX_MESSAGE_BYTES,
    decode_array,
    encode_array,
    is_float,
    is_numeric,
    parse_frame,
    send_message,
)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array(3.5),
        np.zeros((0, 4), np.int64),
        np.array([True, False]),
        np.linspace(0, 1, 5, dtype=np.float16),
    ],
)
def test_round_trip(array: np.ndarray) -> None:
    back = decode_array(encode_array(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(dtype="object"),
        lambda p: p.update(shape=[-1]),
        lambda p: p.update(shape=[7]),  # 7 float32 is not the 24 bytes sent
        lambda p: p.update(data="!!!"),
        lambda p: p.update(shape="2,3"),
    ],
)
def test_malformed_arrays_are_refused(mutate) -> None:
    encoded = encode_array(np.arange(6, dtype=np.float32))
    mutate(encoded["__ndarray__"])
    with pytest.raises(ValueError):
        decode_array(encoded)


def test_not_an_array_is_refused() -> None:
    with pytest.raises(ValueError):
        decode_array([1, 2, 3])


def test_frames() -> None:
    read_end, write_end = os.pipe()
    send_message(write_end, {"op": "call", "args": [1, 2]})
    raw = os.read(read_end, 1 << 16)
    os.close(read_end)
    os.close(write_end)
    buffer = bytearray()
    for byte in raw[:-1]:
        buffer.append(byte)
        assert parse_frame(buffer) is None  # incomplete until the last byte
    buffer.append(raw[-1])
    assert parse_frame(buffer) == {"op": "call", "args": [1, 2]}
    assert buffer == bytearray()


def test_oversized_and_non_object_frames() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        parse_frame(bytearray(b"\xff\xff\xff\xff"), max_bytes=1000)
    with pytest.raises(ValueError, match="JSON object"):
        parse_frame(bytearray(b"\x00\x00\x00\x02[]"))


@pytest.mark.parametrize(
    "dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (1, 1, 1, 2)])
def test_round_trip_every_integer_dtype_and_shape(dtype: str, shape: tuple[int, ...]) -> None:
    count = int(np.prod(shape))
    if dtype == "bool":
        array = (np.arange(count) % 2 == 0).reshape(shape)
    else:  # values at the top of the range, where a narrowing on the way would show
        top = np.array(np.iinfo(dtype).max, dtype=dtype)
        array = (top - np.arange(count, dtype=dtype)).reshape(shape)
    encoded = encode_array(array)
    assert encoded["__ndarray__"]["dtype"] == dtype
    assert "original_dtype" not in encoded["__ndarray__"]
    back = decode_array(encoded)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    assert back.tobytes() == array.tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_round_trip_is_bit_exact(dtype: str) -> None:
    specials = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -3.5]
    array = np.array(specials, dtype=dtype)
    back = decode_array(encode_array(array))
    assert back.dtype == np.dtype(dtype)
    assert back.tobytes() == array.tobytes()  # -0.0 and NaN's bits survive too


def test_the_encoded_form_is_plain_json() -> None:
    encoded = encode_array(np.arange(4, dtype=np.int32).reshape(2, 2))
    assert json.loads(json.dumps(encoded)) == encoded
    assert set(encoded) == {"__ndarray__"}
    assert set(encoded["__ndarray__"]) == {"dtype", "shape", "data"}
    assert encoded["__ndarray__"]["shape"] == [2, 2]


def test_a_non_contiguous_array_keeps_its_logical_order() -> None:
    array = np.arange(6, dtype=np.float64).reshape(2, 3).T
    assert not array.flags.c_contiguous
    back = decode_array(encode_array(array))
    assert back.shape == (3, 2)
    assert np.array_equal(back, array)


def test_bfloat16_travels_as_itself_bit_for_bit() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    array = np.array([1.5, -0.1, 3e38, np.nan, -0.0], dtype=ml_dtypes.bfloat16)
    encoded = encode_array(array)
    assert encoded["__ndarray__"]["dtype"] == "bfloat16"
    assert "original_dtype" not in encoded["__ndarray__"]
    back = decode_array(json.loads(json.dumps(encoded)))
    assert str(back.dtype) == "bfloat16" and back.tobytes() == array.tobytes()
    assert is_float(back.dtype) and is_numeric(back.dtype)
    assert not is_float(np.dtype(np.int32)) and is_numeric(np.dtype(np.int32))


def test_dtypes_without_a_wire_form_travel_as_float32() -> None:
    array = np.array([1.5, -2.0], dtype=">f8")  # big-endian: not a wire dtype
    encoded = encode_array(array)
    assert encoded["__ndarray__"]["dtype"] == "float32"
    assert encoded["__ndarray__"]["original_dtype"] == ">f8"
    back = decode_array(encoded)
    assert back.dtype == np.float32 and back.tolist() == [1.5, -2.0]


def test_a_decoded_array_owns_writable_memory() -> None:
    back = decode_array(encode_array(np.arange(3, dtype=np.float32)))
    assert back.flags.writeable and back.flags.owndata
    back[0] = 7.0  # would raise on a read-only view of the decoded bytes


def encoded_payload(**changes: object) -> dict:
    encoded = encode_array(np.arange(6, dtype=np.float32).reshape(2, 3))
    encoded["__ndarray__"].update(changes)
    return encoded


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"dtype": "object"}, "not allowed"),
        ({"dtype": "complex64"}, "not allowed"),
        ({"dtype": None}, "not allowed"),
        ({"shape": [2, -3]}, "bad shape"),
        ({"shape": [True, 6]}, "bad shape"),
        ({"shape": [2.0, 3]}, "bad shape"),
        ({"shape": [1] * 33}, "bad shape"),
        ({"shape": [3, 3]}, "24 bytes of data for shape"),
        ({"shape": [5]}, "24 bytes"),
        ({"dtype": "float64"}, "24 bytes"),
        ({"data": 12}, "bad data"),
        ({"data": "AAAA\u00e9"}, None),
        ({"data": "not base64!"}, None),
    ],
)
def test_decode_names_what_is_wrong(changes: dict, match: str | None) -> None:
    with pytest.raises(ValueError, match=match):
        decode_array(encoded_payload(**changes))


@pytest.mark.parametrize(
    "obj", [None, [1, 2], "x", {"dtype": "float32"}, {"__ndarray__": [1]}, {"__ndarray__": None}]
)
def test_decode_refuses_what_is_not_an_encoded_array(obj: object) -> None:
    with pytest.raises(ValueError, match="not an encoded array"):
        decode_array(obj)


def test_a_shape_whose_size_overflows_is_refused() -> None:
    # 2**26 ** 4 wraps to 0 in int64: no data must not pass for an astronomically large array.
    payload = {"__ndarray__": {"dtype": "float32", "shape": [2**26] * 4, "data": ""}}
    with pytest.raises(ValueError):
        decode_array(payload)


def test_decode_respects_its_byte_limit() -> None:
    encoded = encode_array(np.zeros(64, dtype=np.float64))  # 512 bytes, 684 base64 characters
    assert decode_array(encoded, max_bytes=512).size == 64
    with pytest.raises(ValueError, match="bad data"):
        decode_array(encoded, max_bytes=300)


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def test_parse_frame_waits_for_the_header_and_the_body() -> None:
    buffer = bytearray()
    assert parse_frame(buffer) is None
    buffer.extend(b"\x00\x00")
    assert parse_frame(buffer) is None  # half a header
    buffer.extend(b"\x00\x02{")
    assert parse_frame(buffer) is None  # header, half a body
    assert buffer == bytearray(b"\x00\x00\x00\x02{")  # nothing consumed yet
    buffer.extend(b"}")
    assert parse_frame(buffer) == {}
    assert buffer == bytearray()


def test_parse_frame_takes_one_message_and_leaves_the_rest() -> None:
    buffer = bytearray(frame(b'{"n":1}') + frame(b'{"n":2}') + b"\x00\x00")
    assert parse_frame(buffer) == {"n": 1}
    assert parse_frame(buffer) == {"n": 2}
    assert parse_frame(buffer) is None
    assert buffer == bytearray(b"\x00\x00")


def test_parse_frame_limit_is_inclusive() -> None:
    body = b'{"k":"' + b"x" * 10 + b'"}'
    assert parse_frame(bytearray(frame(body)), max_bytes=len(body)) == {"k": "x" * 10}
    with pytest.raises(ValueError, match="exceeds the limit"):
        parse_frame(bytearray(frame(body)), max_bytes=len(body) - 1)


def test_an_oversized_length_is_refused_before_the_body_arrives() -> None:
    # Only the header: the judge must not wait for (or buffer) 4 GiB from a hostile worker.
    with pytest.raises(ValueError, match="exceeds"):
        parse_frame(bytearray(struct.pack(">I", MAX_MESSAGE_BYTES + 1)))


@pytest.mark.parametrize("body", [b"[1, 2]", b"3", b'"text"', b"null"])
def test_a_frame_must_hold_a_json_object(body: bytes) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        parse_frame(bytearray(frame(body)))


@pytest.mark.parametrize("body", [b"{x}", b"\xff\xfe", b""])
def test_a_frame_that_is_not_json_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_frame(bytearray(frame(body)))


def test_send_and_parse_over_a_pipe_with_arrays() -> None:
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    messages = [
        {"op": "call", "args": [7, encode_array(x)]},
        {"op": "text", "s": "ünïcode ✓"},
        {"op": "big", "blob": "y" * 100_000},  # larger than one pipe read
    ]
    read_end, write_end = os.pipe()
    received: list[dict] = []
    try:
        writer = threading.Thread(
            target=lambda: [send_message(write_end, m) for m in messages], daemon=True
        )
        writer.start()
        buffer = bytearray()
        while len(received) < len(messages):
            message = parse_frame(buffer)
            if message is None:
                chunk = os.read(read_end, 4096)
                assert chunk, "the pipe closed early"
                buffer.extend(chunk)
            else:
                received.append(message)
        writer.join(5)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert received[0]["args"][0] == 7
    assert decode_array(received[0]["args"][1]).tobytes() == x.tobytes()
    assert received[1:] == messages[1:]
    assert buffer == bytearray()
