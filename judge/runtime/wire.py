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

import ast
import base64
import gc
import json
import os
import re
import struct
import types
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np

# --- limits ------------------------------------------------------------------------------------
# Every budget the judge holds a worker's messages to, in one place. The worker is the learner's
# process and may send anything (its observer and this module too can be replaced), and the judge
# reads every learner's replies in one process: the judge enforces each of these itself. Each is
# what the largest legitimate message needs (measured by grading every example submission of both
# problems, shrinking and confirmation included, and reading each reply) with at least 10x to
# spare; where the worker has a limit of its own, it is derived from that limit.
#
# Per frame, checked by ``parse_frame`` as it arrives; a frame over one is a protocol violation
# (the worker is killed: ``sandbox.worker``). The whole frame: the largest legitimate one carries
# an output at the default result limit, 16 MiB (``limits.result_mb``), 21.4 MiB of
# base64; the largest seen, 5.5 KB.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
# A frame's bytes outside its arrays' base64 data: what ``json.loads`` turns into many small
# objects (up to about 25 bytes of Python objects a byte: ``[[],[],...]``) or widens (a ``\uXXXX``
# escape makes its whole string four bytes a character). The largest seen: 3.2 KB; the worker's
# own caps allow an 8000-character message (48 KB escaped), a traceback and the observations.
MAX_FRAME_TEXT = 1024 * 1024
# One reply's observations (what the worker recorded of how the code uses Flax), counted by
# ``json_cost``: values (each value and each key) and characters of text (strings and keys). The
# largest seen: 470 values, 5,002 bytes of JSON (11 events, 3.4 KB of it base64 arrays).
MAX_REPLY_OBSERVED_VALUES = 5_000
MAX_REPLY_OBSERVED_TEXT = 64 * 1024
#
# Per grading: the learner's observations the judge keeps across all its calls
# (``observations.Observations``); past these a reply's observations are not kept. The largest
# seen: 22,544 values and 170 KB over 175 replies (a wrong answer, shrunk and confirmed). They hold
# 25 replies at the limit above: the load and a 24-case plan always fit (``grading.evaluate``
# raises them for a longer plan), so the rubric, scored on the plan, never misses a call.
MAX_GRADING_OBSERVED_VALUES = 250_000
MAX_GRADING_OBSERVED_TEXT = 2 * 1024 * 1024
#
# Per value the judge keeps to print (``untrusted.json_safe``: a transform's arguments, a load
# failure's evidence), which diagnostics quote and reports hold. The largest seen: 55 values and
# 244 characters (an ``nn.vmap``'s arguments); the text holds two strings at their 8000 limit.
MAX_SAFE_VALUES = 1_000
MAX_SAFE_TEXT = 16 * 1024
#
# A learner's output, kept for the whole grading (compared, shrunk, confirmed): at most this many
# times the reference's bytes, or ``MIN_OUTPUT_BYTES``, whichever is more (``grading.evaluate``),
# else it is too large to compare. The largest legitimate wrong answer is an ensemble's (B, B, F)
# in float64 for (B * F,) float32, 16x at B = 8; the bundled problems' outputs are at most 256
# bytes, the examples' wrong ones at most 4 KB.
MAX_OUTPUT_RATIO = 64
MIN_OUTPUT_BYTES = 64 * 1024
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


def encode_message(message: dict[str, Any]) -> bytes:
    """One message as it travels: its length, then its JSON."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(body)) + body


def send_message(fd: int, message: dict[str, Any]) -> None:
    view = memoryview(encode_message(message))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def parse_frame(buffer: bytearray, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any] | None:
    """Take one complete message off the front of ``buffer``; None if it is not all there yet.

    Raises ValueError for a message over the limits above: its length before its body is read,
    its text outside arrays before ``json.loads`` builds any of it, its observations after.
    """
    if len(buffer) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack_from(buffer)
    if length > max_bytes:
        raise ValueError(
            f"message of {length} bytes exceeds the limit of {max_bytes}: the message broke "
            "the judge's limits"
        )
    end = _HEADER.size + length
    if len(buffer) < end:
        return None
    with memoryview(buffer) as view, view[_HEADER.size : end] as body:
        text = _frame_text(body)
    del buffer[:end]
    _check_text(text)
    message = json.loads(text)
    del text
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    _check_observations(message.get("observations"))
    return message


# The content of a string that is an array's data ("data":"<base64>"): no escape can widen it,
# so it parses to one byte a character, and ``MAX_FRAME_TEXT`` does not count it.
_ARRAY_DATA = re.compile(r'"data":"([A-Za-z0-9+/]*=*)"')


def _frame_text(body: memoryview) -> str:
    """A frame's JSON as text, in one copy. ``send_message`` writes ASCII (``json.dumps``
    escapes everything else), so a character is one byte; UTF-8 from another writer is read
    only in a frame small enough that a wide string made of it costs nothing."""
    try:
        return str(body, "ascii")
    except UnicodeDecodeError:
        if len(body) > MAX_FRAME_TEXT:
            raise ValueError(
                f"the message broke the judge's limits: {len(body)} bytes that are not ASCII, "
                f"at most {MAX_FRAME_TEXT}"
            ) from None
        return str(body, "utf-8")


def _check_text(text: str) -> None:
    """A frame's text outside its arrays' data must fit ``MAX_FRAME_TEXT``."""
    if len(text) <= MAX_FRAME_TEXT:
        return
    arrays = sum(len(m.group(1)) for m in _ARRAY_DATA.finditer(text))
    if len(text) - arrays > MAX_FRAME_TEXT:
        raise ValueError(
            f"the message broke the judge's limits: {len(text) - arrays} bytes of JSON besides "
            f"arrays, at most {MAX_FRAME_TEXT}"
        )


def _check_observations(observed: Any) -> None:
    """A reply's observations must fit ``MAX_REPLY_OBSERVED_VALUES`` and ``_TEXT``."""
    if observed is None:
        return
    values, text = json_cost(observed, MAX_REPLY_OBSERVED_VALUES, MAX_REPLY_OBSERVED_TEXT)
    if values > MAX_REPLY_OBSERVED_VALUES:
        what = f"more than {MAX_REPLY_OBSERVED_VALUES} values"
    elif text > MAX_REPLY_OBSERVED_TEXT:
        what = f"more than {MAX_REPLY_OBSERVED_TEXT} characters of text"
    else:
        return
    raise ValueError(f"the reply broke the judge's limits: its observations hold {what}")


def json_cost(
    value: Any, max_values: int | None = None, max_text: int | None = None
) -> tuple[int, int]:
    """What a JSON value holds: its values (each value, and each key of each object) and its
    characters of text (strings and keys). Counting stops once either passes its limit, so a
    huge value costs no more to measure than one just over; iterative, so a value nested as
    deep as ``json.loads`` allows is no recursion."""
    values = text = 0
    stack = [value]
    while stack:
        item = stack.pop()
        values += 1
        if isinstance(item, str):
            text += len(item)
        elif isinstance(item, dict):
            values += len(item)
            text += sum(len(k) if isinstance(k, str) else 1 for k in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        if (max_values is not None and values > max_values) or (
            max_text is not None and text > max_text
        ):
            break
    return values, text


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


# What the judge sends a worker: ``Worker.send`` takes nothing else (mypy holds it). A
# request's ``slot`` is the main one when absent.
Request = LoadRequest | CallRequest


def load_request(path: str, entry: str, params: list[str], slot: str | None = None) -> LoadRequest:
    request: LoadRequest = {"op": "load", "path": path, "entry": entry, "parameters": params}
    return {**request, "slot": slot} if slot is not None else request


def call_request(args: list[EncodedArray | int], slot: str | None = None) -> CallRequest:
    request: CallRequest = {"op": "call", "args": args}
    return {**request, "slot": slot} if slot is not None else request


class CompileCache(TypedDict):
    dir: str
    write: bool


class WorkerLimits(TypedDict, total=False):
    """The limits a worker sets on itself (``judge.limits.Limits.for_worker``); one absent is
    not set."""

    memory_mb: int
    cpu_s: float
    processes: int
    result_mb: int


class WorkerConfig(TypedDict, total=False):
    """The worker's configuration, passed as JSON on its command line."""

    role: str
    precision: str
    limits: WorkerLimits
    observe: bool
    guard: bool
    protect: list[str]
    allow: list[str]
    compile_cache: CompileCache
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
    ``dont_inherit``: this module's ``from __future__`` imports must not apply to the file."""
    try:
        return compile(source, filename, "exec", dont_inherit=True), None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return None, _unparsable(exc)


def syntax_failure(source: str, filename: str) -> Reply | None:
    """The load reply of a file Python cannot parse; None when it parses. What the judge runs
    in its own process, without starting a worker: parsing is linear in the file's size, while
    compiling is not (many alike functions on separate lines: minutes at 2 MB, the GIL held).
    A file that parses and still does not compile is the worker's to report. The collector
    waits meanwhile: the tree has no cycles, and its millions of new objects would otherwise
    set off full collections whose cost grows with the tree."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        ast.parse(source, filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return _unparsable(exc)
    finally:
        if collecting:
            gc.enable()
    return None


def _unparsable(exc: BaseException) -> Reply:
    if isinstance(exc, SyntaxError):
        return {
            "ok": False,
            "code": "syntax_error",
            "message": f"{exc.msg} (line {exc.lineno})",
            "evidence": {
                "line": exc.lineno,
                "offset": exc.offset,
                "text": (exc.text or "").rstrip("\n")[:200],
            },
        }
    return {
        "ok": False,
        "code": "syntax_error",
        "message": f"{type(exc).__name__}: {str(exc)[:300]}",
        "evidence": {},
    }
