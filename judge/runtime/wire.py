"""The wire between the judge and a worker: frames, arrays and the messages' types.

Messages travel over two dedicated pipes, never over stdout or stderr, which belong to the
learner's prints. A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
Arrays travel as ``{"__ndarray__": {"dtype", "shape", "data"}}`` with base64 data: no pickle,
so nothing a worker sends can run code in the judge. Every array keeps its true dtype, bfloat16
included (its two bytes per value as they are; decoded with ``ml_dtypes``, the small package
that gives JAX and numpy that dtype).

Used on both sides: it imports only the standard library and numpy (and ``ml_dtypes`` when a
bfloat16 array arrives), so that the judge can use it without starting JAX.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import types
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
WIRE_DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "bfloat16",
        "float32",
        "float64",
    }
)
_HEADER = struct.Struct(">I")


# --- arrays and frames ------------------------------------------------------------------------


def wire_dtype(name: str) -> np.dtype:
    """The numpy dtype of a wire dtype name; bfloat16 comes from ``ml_dtypes``."""
    if name == "bfloat16":
        import ml_dtypes  # installed with JAX; imported only when such an array arrives

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def is_float(dtype: np.dtype) -> bool:
    """Floating point, bfloat16 included (numpy calls its kind ``V``)."""
    return dtype.kind == "f" or str(dtype) == "bfloat16"


def is_numeric(dtype: np.dtype) -> bool:
    """Booleans, integers and floating point: what can be compared with an expected array."""
    return dtype.kind in "biuf" or str(dtype) == "bfloat16"


def encode_array(array: np.ndarray) -> EncodedArray:
    """An array as JSON, in its own dtype. The rare dtypes with no wire form (float8 and
    friends) travel as float32, their name kept as ``original_dtype``."""
    array = np.asarray(array)
    original = str(array.dtype)
    if original not in WIRE_DTYPES:
        array = array.astype(np.float32)
    array = np.asarray(array, order="C")  # ascontiguousarray would make a 0-d array 1-d
    payload = {
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }
    if original != str(array.dtype):
        payload["original_dtype"] = original
    return {"__ndarray__": payload}


def decode_array(obj: Any, max_bytes: int = MAX_MESSAGE_BYTES) -> np.ndarray:
    """Rebuild an array from ``encode_array``'s form, checking every field first.

    Raises ValueError for anything malformed: the other side may be a learner's process.
    """
    payload = obj.get("__ndarray__") if isinstance(obj, dict) else None
    if not isinstance(payload, dict):
        raise ValueError("not an encoded array")
    dtype, shape, data = payload.get("dtype"), payload.get("shape"), payload.get("data")
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"dtype {dtype!r} is not allowed on the wire")
    if (
        not isinstance(shape, list)
        or len(shape) > 32
        or not all(type(d) is int and 0 <= d <= max_bytes for d in shape)
    ):
        raise ValueError(f"bad shape {shape!r}")
    if not isinstance(data, str) or len(data) > 2 * max_bytes:
        raise ValueError("bad data")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    numpy_dtype = wire_dtype(dtype)
    expected = int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{len(raw)} bytes of data for shape {shape} {dtype}")
    return np.frombuffer(raw, dtype=numpy_dtype).reshape(tuple(shape)).copy()


def send_message(fd: int, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    data = _HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def parse_frame(buffer: bytearray, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any] | None:
    """Take one complete message off the front of ``buffer``; None if it is not all there yet."""
    if len(buffer) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack_from(buffer)
    if length > max_bytes:
        raise ValueError(f"message of {length} bytes exceeds the limit of {max_bytes}")
    if len(buffer) < _HEADER.size + length:
        return None
    body = bytes(buffer[_HEADER.size : _HEADER.size + length])
    del buffer[: _HEADER.size + length]
    message = json.loads(body.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message


class MessageReader:
    """Blocking reads of whole messages from a pipe. The buffer outlives each read: one
    ``os.read`` may return several messages, and none of them may be lost."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def read(self) -> dict[str, Any] | None:
        """The next message; None at end of file."""
        while True:
            message = parse_frame(self.buffer)
            if message is not None:
                return message
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer.extend(chunk)


# --- the messages ------------------------------------------------------------------------------
# What each side may send. The judge never trusts a reply's form: it cleans every field it reads
# (``grading.replies``); these types say what a well-behaved worker sends.


class EncodedArray(TypedDict):
    __ndarray__: dict[str, Any]


class LoadRequest(TypedDict):
    op: Literal["load"]
    path: str
    entry: str
    parameters: list[str]
    slot: NotRequired[str]
    id: NotRequired[int]


class CallRequest(TypedDict):
    op: Literal["call"]
    args: list[EncodedArray | int]  # an array may carry "kind": "jax" beside "__ndarray__"
    slot: NotRequired[str]
    id: NotRequired[int]


class CompileCache(TypedDict):
    dir: str
    write: bool


class WorkerConfig(TypedDict, total=False):
    """The worker's configuration, passed as JSON on its command line."""

    role: str
    precision: str
    memory_mb: int | None
    cpu_s: float | None
    processes: int | None
    observe: bool
    guard: bool
    protect: list[str]
    allow: list[str]
    compile_cache: CompileCache
    max_output_bytes: int
    confine: dict[str, Any]  # the sandbox's allowlist: read, write, devices_extra, file_size_mb
    shared_ir_context: bool  # one MLIR context per thread for every lowering (``lowering``)


class Hello(TypedDict, total=False):
    """The worker's first message: its backend started (or why not), and the limits it set."""

    ok: bool
    error: str
    message: str
    platform: str
    device: str
    device_count: int
    versions: dict[str, str | None]
    observer: str
    limits: dict[str, Any]
    confined: dict[str, Any]  # what runtime.confine enforced, when the sandbox asked for it


class Reply(TypedDict, total=False):
    """The answer to a load or a call."""

    id: int | None
    ok: bool
    kind: str  # array, other, exception, memory, too_large, protocol
    code: str
    type: str
    repr: str
    message: str
    array: EncodedArray
    evidence: dict[str, Any]
    traceback: list[str]
    line: int | None
    library_frames: int
    elapsed_s: float
    load_s: float
    warnings: list[dict[str, str]]
    observations: list[dict[str, Any]]
    global_random: bool  # the call drew from Python's or numpy's global random generator


def compile_source(source: str, filename: str) -> tuple[types.CodeType | None, Reply | None]:
    """Compile a learner's file: the code object, or the load reply that says why not.

    The judge calls it too, to report a file that does not parse without starting a worker.
    ``dont_inherit``: this module's ``from __future__`` imports must not apply to the file.
    """
    try:
        return compile(source, filename, "exec", dont_inherit=True), None
    except SyntaxError as exc:
        return None, {
            "ok": False,
            "code": "syntax_error",
            "message": f"{exc.msg} (line {exc.lineno})",
            "evidence": {
                "line": exc.lineno,
                "offset": exc.offset,
                "text": (exc.text or "").rstrip("\n")[:200],
            },
        }
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, {
            "ok": False,
            "code": "syntax_error",
            "message": f"{type(exc).__name__}: {str(exc)[:300]}",
            "evidence": {},
        }
