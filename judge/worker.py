"""The isolated worker: loads one Python file and runs the calls the judge sends it.

It runs as its own process, started by ``sandbox.Worker`` as ``python -I -B worker.py REQ RESP
CONFIG`` in a fresh temporary directory, so neither the project tree nor ``reference/`` is on its
``sys.path``. A learner's file and the reference each get a worker of their own; nothing is
compared here. Messages travel over two dedicated pipes (file descriptors REQ and RESP), never
over stdout or stderr, which belong to the learner's prints.

Wire format: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Arrays travel as
``{"__ndarray__": {"dtype", "shape", "data"}}`` with base64 data: no pickle, so nothing the
worker sends can run code in the judge.

At module level this file imports only the standard library and numpy: the judge imports it for
the codec without starting JAX.
"""

from __future__ import annotations

import base64
import difflib
import inspect
import json
import os
import reprlib
import struct
import sys
import time
import traceback
import types
from typing import Any

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
        "float32",
        "float64",
    }
)
_HEADER = struct.Struct(">I")


# --- codec: used on both sides -------------------------------------------------------------


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """An array as JSON. Dtypes numpy lacks (bfloat16 and friends) travel as float32."""
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
    expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise ValueError(f"{len(raw)} bytes of data for shape {shape} {dtype}")
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()


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


# --- the worker process ----------------------------------------------------------------------

_short_repr = reprlib.Repr()
_short_repr.maxstring = 120
_short_repr.maxother = 120
_short_repr.maxlist = 8


def _safe_repr(value: Any) -> str:
    try:
        return _short_repr.repr(value)
    except BaseException:  # a learner's __repr__ may raise anything
        return f"<{type(value).__name__} object>"


def _type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__ or ""
    if module.startswith(("jax", "jaxlib")) and hasattr(value, "addressable_shards"):
        return "jax.Array"
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__qualname__}"


# Flax's lifted transforms whose arguments are recorded: they decide how variables are shared.
LIFTED_TRANSFORMS = ("vmap", "scan", "jit", "remat", "map_variables")
MAX_OBSERVED_VALUES = 4096


def _jsonable(value: Any, depth: int = 0) -> Any:
    """An argument as plain JSON: mappings, sequences and scalars kept, classes by name."""
    if depth > 6:
        return _safe_repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        module = getattr(value, "__module__", "") or ""
        return {"__class__": f"{module}.{value.__qualname__}".lstrip(".")}
    if hasattr(value, "items"):
        try:
            return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
        except Exception:
            return _safe_repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in value]
    return _safe_repr(value)


class Observer:
    """Records how loaded code uses Flax and JAX, for diagnostics only; never changes results.

    What it records: the arguments of every call to a Flax lifted transform (``nn.vmap`` and
    friends), whatever the import style, since the module attributes are wrapped before any
    submission is imported; the variables each outermost ``Module.init`` returns (paths, shapes,
    dtypes, and values when concrete: under ``jax.jit`` they are tracers); and calls of
    ``jax.vmap`` made from the submission's own file (Flax calls it internally too).
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.filename = ""
        self._in_init = False

    def take(self) -> list[dict[str, Any]]:
        events, self.events = self.events, []
        return events

    def _record(self, event: dict[str, Any]) -> None:
        if len(self.events) < 200:
            self.events.append(event)

    def install(self) -> None:
        import functools

        import flax.linen as nn
        import jax
        from flax.linen import transforms

        observer = self
        for name in LIFTED_TRANSFORMS:
            original = getattr(transforms, name, None)
            if original is None:
                continue
            try:
                signature = inspect.signature(original)
            except (TypeError, ValueError):
                signature = None

            def lifted(
                *args: Any,
                __original: Any = original,
                __name: str = name,
                __signature: Any = signature,
                **kwargs: Any,
            ) -> Any:
                try:
                    if __signature is not None:
                        bound = __signature.bind(*args, **kwargs)
                        bound.apply_defaults()
                        arguments = dict(bound.arguments)
                    else:
                        arguments = {"args": list(args), **kwargs}
                    observer._record(
                        {
                            "kind": "lifted",
                            "api": f"flax.linen.{__name}",
                            "arguments": _jsonable(arguments),
                        }
                    )
                except Exception:
                    pass  # arguments Flax itself will reject: let Flax say so
                return __original(*args, **kwargs)

            functools.update_wrapper(lifted, original)
            setattr(transforms, name, lifted)
            if getattr(nn, name, None) is original:
                setattr(nn, name, lifted)

        original_init = nn.Module.init

        def init(module: Any, *args: Any, **kwargs: Any) -> Any:
            if observer._in_init:
                return original_init(module, *args, **kwargs)
            observer._in_init = True
            try:
                variables = original_init(module, *args, **kwargs)
            finally:
                observer._in_init = False
            try:
                observer._record(
                    {
                        "kind": "init",
                        "module": type(module).__name__,
                        "variables": _variables(jax, variables),
                    }
                )
            except Exception:
                pass
            return variables

        functools.update_wrapper(init, original_init)
        nn.Module.init = init

        original_vmap = jax.vmap

        def vmap(*args: Any, **kwargs: Any) -> Any:
            try:
                caller = sys._getframe(1).f_code.co_filename
                if caller == observer.filename:
                    observer._record({"kind": "jax_vmap", "arguments": _jsonable(kwargs)})
            except Exception:
                pass
            return original_vmap(*args, **kwargs)

        functools.update_wrapper(vmap, original_vmap)
        jax.vmap = vmap


def _variables(jax: Any, tree: Any) -> list[dict[str, Any]]:
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    out = []
    for path, leaf in leaves:
        keys = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
        entry: dict[str, Any] = {
            "path": "/".join(keys),
            "shape": list(getattr(leaf, "shape", ())),
            "dtype": str(getattr(leaf, "dtype", type(leaf).__name__)),
        }
        concrete = not isinstance(leaf, jax.core.Tracer)
        entry["concrete"] = concrete
        if concrete and int(np.prod(entry["shape"] or [1])) <= MAX_OBSERVED_VALUES:
            entry["value"] = encode_array(np.asarray(leaf))
        out.append(entry)
    return out


_OUT_OF_MEMORY = ("RESOURCE_EXHAUSTED", "Out of memory", "out of memory", "Cannot allocate memory")


def compile_source(
    source: str, filename: str
) -> tuple[types.CodeType | None, dict[str, Any] | None]:
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


class Session:
    """State of one worker: the loaded module and its entry point."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.filename = ""
        self.entries: dict[str, Any] = {}  # slot -> entry point; "main" is the graded one
        self.observer = Observer() if config.get("observe") else None

    # Learner tracebacks show the learner's frames only; the worker's and the libraries' are
    # counted, not shown, so the learner reads about their own code.
    def _traceback(self, exc: BaseException) -> dict[str, Any]:
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [f for f in frames if f.filename == self.filename]
        lines = []
        for frame in mine[-8:]:
            lines.append(f'File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        text_lines = message.splitlines()
        if len(text_lines) > 25:
            message = "\n".join([*text_lines[:25], f"... ({len(text_lines) - 25} more lines)"])
        last = mine[-1] if mine else None
        return {
            "type": type(exc).__name__,
            "message": message[:8000],
            "traceback": lines,
            "line": last.lineno if last else None,
            "library_frames": len(frames) - len(mine),
        }

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = self._load(request)
        if self.observer is not None:
            reply["observations"] = self.observer.take()
        return reply

    def _load(self, request: dict[str, Any]) -> dict[str, Any]:
        """Load a file into a slot: "main" (observed) or another name (a judge-side variant)."""
        path = request["path"]
        slot = str(request.get("slot") or "main")
        filename = os.path.basename(path)
        if slot == "main":
            self.filename = filename
            if self.observer is not None:
                self.observer.filename = filename
        name = request["entry"]
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        except (ValueError, MemoryError) as exc:  # UnicodeDecodeError is a ValueError
            return {
                "ok": False,
                "code": "syntax_error",
                "message": f"{type(exc).__name__}: {str(exc)[:300]}",
                "evidence": {},
            }
        code, failure = compile_source(source, filename)
        if failure is not None:
            return failure
        if slot == "main" and self.config.get("guard"):
            install_guard(
                os.getcwd(),
                list(self.config.get("protect") or []),
                list(self.config.get("allow") or []),
            )
        module_name = "submission" if slot == "main" else f"variant_{len(self.entries)}"
        module = types.ModuleType(module_name)
        module.__file__ = path
        sys.modules[module_name] = module
        started = time.perf_counter()
        try:
            exec(code, module.__dict__)
        except MemoryError:
            return {"ok": False, "code": "memory", "message": "MemoryError while importing"}
        except ImportError as exc:
            return {
                "ok": False,
                "code": "import_error",
                "message": str(exc)[:500],
                "evidence": {"module": getattr(exc, "name", None), **self._traceback(exc)},
            }
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, anything at import
            return {
                "ok": False,
                "code": "exception",
                "message": f"{type(exc).__name__} while importing",
                "evidence": self._traceback(exc),
            }
        finally:
            _flush_learner_streams()
        load_s = time.perf_counter() - started
        namespace = module.__dict__
        if name not in namespace:
            names = [
                k
                for k, v in namespace.items()
                if callable(v)
                and not k.startswith("_")
                and getattr(v, "__module__", None) == module_name
            ]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            return {
                "ok": False,
                "code": "entry_point_missing",
                "message": f"no function named {name}",
                "evidence": {
                    "defined": sorted(names)[:20],
                    "did_you_mean": close[0] if close else None,
                },
            }
        entry = namespace[name]
        if not callable(entry):
            return {
                "ok": False,
                "code": "entry_point_not_callable",
                "message": f"{name} is a {_type_name(entry)}, not a function",
                "evidence": {"type": _type_name(entry)},
            }
        warnings = []
        expected = list(request["parameters"])
        try:
            signature = inspect.signature(entry)
        except (TypeError, ValueError):
            signature = None
        if signature is not None:
            try:
                signature.bind(*expected)
            except TypeError as exc:
                return {
                    "ok": False,
                    "code": "signature_mismatch",
                    "message": f"{name}{signature} cannot be called with "
                    f"{len(expected)} positional arguments: {exc}",
                    "evidence": {
                        "signature": f"{name}{signature}",
                        "expected": f"{name}({', '.join(expected)})",
                    },
                }
            got = [
                p.name
                for p in signature.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ][: len(expected)]
            if got != expected:
                warnings.append(
                    {
                        "code": "signature_mismatch",
                        "signature": f"{name}{signature}",
                        "expected": f"{name}({', '.join(expected)})",
                    }
                )
        self.entries[slot] = entry
        return {"ok": True, "load_s": load_s, "warnings": warnings}

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        entry = self.entries.get(str(request.get("slot") or "main"))
        if entry is None:
            return {"ok": False, "kind": "protocol", "message": "call before a successful load"}
        args = [decode_array(a) if isinstance(a, dict) else a for a in request["args"]]
        started = time.perf_counter()
        try:
            result = entry(*args)
            reply = self._to_wire(result)
        except MemoryError:
            reply = {"ok": False, "kind": "memory", "message": "MemoryError"}
        except BaseException as exc:  # the learner's SystemExit is a runtime error, not an exit
            reply = {"ok": False, "kind": "exception", **self._traceback(exc)}
            if any(m in reply["message"] for m in _OUT_OF_MEMORY):  # XLA could not allocate
                reply = {"ok": False, "kind": "memory", "message": reply["message"][:500]}
        finally:
            _flush_learner_streams()
        reply["elapsed_s"] = time.perf_counter() - started
        if self.observer is not None:
            reply["observations"] = self.observer.take()
        return reply

    def _to_wire(self, result: Any) -> dict[str, Any]:
        """The learner's return value as an array, or a description of why it is not one."""
        other = {
            "ok": True,
            "kind": "other",
            "type": _type_name(result),
            "repr": _safe_repr(result),
        }
        if result is None or isinstance(result, tuple | dict | str | bytes | set | frozenset):
            return other
        if isinstance(result, list):
            try:
                array = np.asarray(result)
            except (ValueError, TypeError):
                return other
        elif isinstance(result, np.ndarray | np.generic | int | float | bool) or hasattr(
            result, "__array__"
        ):
            block = getattr(result, "block_until_ready", None)
            if callable(block):
                block()
            array = np.asarray(result)
        else:
            return other
        if array.dtype.kind not in "biuf" and str(array.dtype) not in ("bfloat16",):
            return other
        if array.nbytes > self.config.get("max_output_bytes", 16 * 1024 * 1024):
            return {
                "ok": False,
                "kind": "too_large",
                "message": f"output of {array.nbytes} bytes, shape {array.shape}",
            }
        return {
            "ok": True,
            "kind": "array",
            "type": _type_name(result),
            "array": encode_array(array),
        }


def _flush_learner_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # the learner may have replaced or closed them
            pass


def prctl(option: int, value: int) -> bool:
    """Linux prctl(2) through ctypes; False where there is no such call."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4


def _apply_limits(config: dict[str, Any]) -> dict[str, Any]:
    """Limits set inside the worker, before JAX starts its threads (no preexec_fn needed).

    Returns what was applied, for the report. The worker also dies with the judge (a parent
    killed with SIGKILL leaves no worker behind), and the reference's worker is made
    non-dumpable, so that another process of the same user cannot read its memory.
    """
    import resource
    import signal

    applied: dict[str, Any] = {}
    memory = config.get("memory_mb")
    if memory:
        limit = int(memory) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        applied["memory_mb"] = int(memory)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = config.get("cpu_s")
    if cpu:
        soft = max(1, int(cpu))
        # SIGXCPU at the soft limit, SIGKILL a second later for code that ignores SIGXCPU.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        applied["cpu_s"] = soft
    parent = os.getppid()
    if prctl(PR_SET_PDEATHSIG, signal.SIGKILL) and os.getppid() != parent:
        os._exit(0)  # the parent died before the call: nobody is listening
    if config.get("role") == "reference":
        prctl(PR_SET_DUMPABLE, 0)
    return applied


def _count_tasks(uid: int) -> int:
    """Tasks (processes and threads) that ``uid`` runs now: what RLIMIT_NPROC counts."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError):
            continue
    return total


def _limit_processes(config: dict[str, Any]) -> str:
    """RLIMIT_NPROC, set once JAX's threads exist: the learner may add ``processes`` tasks.

    The kernel never applies it to root, and counts every task of the user, other workers'
    included: it is a backstop behind the guard, which refuses to start processes at all.
    """
    import resource

    extra = config.get("processes")
    if not extra:
        return "off"
    if os.getuid() == 0:
        return "not enforced: the kernel exempts root"
    try:
        import jax

        # JAX starts more threads on its first compilation: let them exist before the count.
        jax.jit(lambda v: v + 1)(np.zeros(2, np.float32)).block_until_ready()
        # The kernel counts every task of the user, the judge's other workers included (a
        # batch starts them side by side, each with JAX's threads): leave them room.
        room = int(extra) + 24 * (os.cpu_count() or 1)
        limit = _count_tasks(os.getuid()) + room
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
    except (OSError, ValueError) as exc:
        return f"not enforced: {exc}"
    return f"{room} beyond those running"


# Audit events a graded function has no business raising: starting or signalling processes,
# the network, native code loaded by hand. Denied while the learner's code runs.
DENIED_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.startfile",
        "subprocess.Popen",
        "pty.spawn",
        "os.killpg",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "os.link",
        "os.chroot",
        "os.setuid",
        "os.setgid",
    }
)
# Events whose first argument is a path to be changed: allowed inside the worker's own folder.
_WRITE_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "os.symlink",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
    }
)
_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.chdir", "glob.glob"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _disarm_fork_exec(deny: Any) -> None:
    """Replace the one way to start a process that raises no audit event.

    ``_posixsubprocess.fork_exec`` (behind ``subprocess`` and ``multiprocessing``) forks and
    execs without an audit event of its own; ``subprocess`` also keeps it as ``_fork_exec``.
    Both names now refuse, and importing the extension again for a fresh copy is refused by
    the hook (a cached module raises no import event, so only such a re-import is refused).
    """
    import _posixsubprocess
    import subprocess

    def refuse(*args: Any, **kwargs: Any) -> None:
        deny("starting processes")

    _posixsubprocess.fork_exec = refuse
    subprocess._fork_exec = refuse  # type: ignore[attr-defined]


class GuardDenied(PermissionError):
    """What the learner's code gets for a denied operation."""


def install_guard(workdir: str, protected: list[str], allowed: list[str] = ()) -> None:
    """Deny, from now on, what graded code must not do: read the judge's files (the problem,
    the reference, the project, other workers' folders), write outside ``workdir``, start or
    signal processes, use the network, or load native code by hand.

    An audit hook (PEP 578) cannot be removed once added, and this one keeps no state a learner
    could flip: its rules live in a closure over immutable values. It is one layer, not a
    sandbox: code that reaches native calls another way is out of its sight, which is what the
    bubblewrap sandbox is for.
    """
    home = os.path.realpath(workdir)
    temp_root = os.path.dirname(home)
    # The deepest matching root decides: the Python installation stays readable inside a
    # hidden project (a .venv), a problem folder stays hidden inside site-packages.
    roots = sorted(
        [(os.path.realpath(p), False) for p in protected if p]
        + [(os.path.realpath(p), True) for p in allowed if p],
        key=lambda root: -len(root[0]),
    )
    own_pid = os.getpid()
    writable_devices = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    def resolve(target: Any) -> str | None:
        if isinstance(target, int):
            return None  # an open file descriptor: it was checked when it was opened
        try:
            raw = os.fsdecode(target)
        except (TypeError, ValueError):
            return None
        return os.path.realpath(os.path.join(os.getcwd(), raw) if not os.path.isabs(raw) else raw)

    def readable(path: str) -> bool:
        if inside(path, home):
            return True
        if path.startswith("/proc/"):  # another process's memory, environment, files
            part = path.split("/")[2]
            return not part.isdigit() or int(part) == own_pid
        for root, allow in roots:
            if inside(path, root):
                return allow
        # other workers' folders (judge-learner-..., judge-reference-...) are not this one's
        if inside(path, temp_root) and path != temp_root:
            return not os.path.relpath(path, temp_root).split(os.sep)[0].startswith("judge-")
        return True

    def deny(what: str) -> None:
        raise GuardDenied(f"the judge does not allow {what} in graded code")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in DENIED_EVENTS:
            deny(event)
        if event == "import" and args and args[0] == "_posixsubprocess":
            deny("importing _posixsubprocess again")
        if event == "os.kill":
            if args and args[0] not in (own_pid, 0):
                deny("signalling other processes")
            return
        if event in _READ_EVENTS:
            path = resolve(args[0]) if args else None
            if path is None:
                return
            if not readable(path):
                deny(f"access to {path}")
            if event == "open":
                mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
                writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & _WRITE_FLAGS
                )
                if writes and not inside(path, home) and path not in writable_devices:
                    deny(f"writing {path} (only the current folder is writable)")
            return
        if event in _WRITE_EVENTS:
            for target in args[:2] if event in ("os.rename", "shutil.move") else args[:1]:
                path = resolve(target)
                if path is not None and not inside(path, home):
                    deny(f"changing {path} (only the current folder is writable)")

    _disarm_fork_exec(deny)  # first: it imports what the hook then refuses to import again
    sys.addaudithook(hook)


def _start_jax(config: dict[str, Any]) -> dict[str, Any]:
    import jax

    precision = config.get("precision")
    if precision and precision != "default":
        jax.config.update("jax_default_matmul_precision", precision)
    compile_cache = config.get("compile_cache")
    if isinstance(compile_cache, dict) and compile_cache.get("dir"):
        # Every compilation is worth keeping (the default skips those under 1 s); a worker
        # that must not write (the learner's) gets a threshold no compilation reaches.
        jax.config.update("jax_compilation_cache_dir", str(compile_cache["dir"]))
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        jax.config.update(
            "jax_persistent_cache_min_compile_time_secs",
            0.0 if compile_cache.get("write") else 1e12,
        )
        jax.config.update("jax_persistent_cache_enable_xla_caches", "none")
    devices = jax.devices()
    versions = {"python": sys.version.split()[0], "jax": jax.__version__, "numpy": np.__version__}
    for name in ("jaxlib", "flax"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    device = devices[0]
    kind = getattr(device, "device_kind", "") or ""
    return {
        "ok": True,
        "platform": device.platform,
        "device": f"{device.platform}:{kind}",
        "device_count": len(devices),
        "versions": versions,
    }


def main(argv: list[str]) -> int:
    request_fd, reply_fd = int(argv[1]), int(argv[2])
    config = json.loads(argv[3])
    applied = _apply_limits(config)
    # JAX's start-up warnings are not the learner's output: keep fds 1 and 2 quiet until then.
    session = Session(config)
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        hello = _start_jax(config)
        if session.observer is not None:
            try:
                session.observer.install()
            except Exception as exc:  # no Flax here: grading goes on without structure
                session.observer = None
                hello["observer"] = f"not installed: {type(exc).__name__}: {exc}"[:300]
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hello = {"ok": False, "error": "backend_unavailable", "message": first[:500]}
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
    if hello["ok"]:
        applied["processes"] = _limit_processes(config)
        hello["limits"] = applied
    send_message(reply_fd, hello)
    if not hello["ok"]:
        return 0
    requests = MessageReader(request_fd)
    while True:
        request = requests.read()
        if request is None or request.get("op") == "exit":
            return 0
        if request.get("op") == "load":
            reply = session.load(request)
        elif request.get("op") == "call":
            reply = session.call(request)
        else:
            reply = {"ok": False, "kind": "protocol", "message": f"unknown op {request!r}"[:200]}
        reply["id"] = request.get("id")
        send_message(reply_fd, reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
