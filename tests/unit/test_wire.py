"""The wire format between judge and worker: arrays in JSON, length-prefixed frames."""

from __future__ import annotations

import os

import numpy as np
import pytest

from judge.worker import decode_array, encode_array, parse_frame, send_message


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
