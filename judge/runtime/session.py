"""One worker's state: the files it loaded (into slots) and the calls it runs on them.

Slot ``main`` holds the graded file (the learner's, or the reference) and is observed; other
slots hold judge-side variants (the problem's fingerprints) in the reference's worker.
"""

from __future__ import annotations

import difflib
import inspect
import os
import random
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .guard import install_guard
from .observer import Observer, type_name
from .recording import safe_repr
from .shared import OUT_OF_MEMORY_IN_MESSAGE
from .wire import Reply, WorkerConfig, compile_source, decode_array, encode_array, is_numeric


def _flush_learner_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # the learner may have replaced or closed them
            pass


class Session:
    """State of one worker: the loaded modules and their entry points."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.filename = ""
        self.entries: dict[str, Callable[..., Any]] = {}  # slot -> entry point
        self.observer = Observer() if config.get("observe") else None

    def traceback(self, exc: BaseException) -> dict[str, Any]:
        """The learner's own frames only; the worker's and the libraries' are counted, not
        shown, so the learner reads about their own code."""
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

    # --- load ------------------------------------------------------------------------------

    def load(self, request: dict[str, Any]) -> Reply:
        reply = self._load(request)
        if self.observer is not None:
            reply["observations"] = self.observer.take()
        return reply

    def _load(self, request: dict[str, Any]) -> Reply:
        """Load a file into a slot: read, compile, guard (the learner's), run, find the entry."""
        path = request["path"]
        slot = str(request.get("slot") or "main")
        filename = os.path.basename(path)
        if slot == "main":
            self.filename = filename
            if self.observer is not None:
                self.observer.filename = filename
        try:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
        except (ValueError, MemoryError) as exc:  # UnicodeDecodeError is a ValueError
            message = f"{type(exc).__name__}: {str(exc)[:300]}"
            return {"ok": False, "code": "syntax_error", "message": message, "evidence": {}}
        code, failure = compile_source(source, filename)
        if failure is not None or code is None:
            return failure or {"ok": False, "code": "syntax_error", "message": "", "evidence": {}}
        if slot == "main" and self.config.get("guard"):
            install_guard(
                os.getcwd(),
                list(self.config.get("protect") or []),
                list(self.config.get("allow") or []),
            )
        module_name = "submission" if slot == "main" else f"variant_{len(self.entries)}"
        started = time.perf_counter()
        namespace, failure = self._execute(code, path, module_name)
        if failure is not None:
            return failure
        load_s = time.perf_counter() - started
        entry, reply = self._entry_point(namespace, request["entry"], module_name)
        if entry is None:
            return reply
        warnings, refusal = _check_signature(entry, request["entry"], list(request["parameters"]))
        if refusal is not None:
            return refusal
        self.entries[slot] = entry
        return {"ok": True, "load_s": load_s, "warnings": warnings}

    def _execute(
        self, code: types.CodeType, path: str, module_name: str
    ) -> tuple[dict[str, Any], Reply | None]:
        """Run a compiled file as a fresh module; its namespace, or the reply saying why not."""
        module = types.ModuleType(module_name)
        module.__file__ = path
        sys.modules[module_name] = module
        try:
            exec(code, module.__dict__)
        except MemoryError:
            return {}, {"ok": False, "code": "memory", "message": "MemoryError while importing"}
        except ImportError as exc:
            return {}, {
                "ok": False,
                "code": "import_error",
                "message": str(exc)[:500],
                "evidence": {"module": getattr(exc, "name", None), **self.traceback(exc)},
            }
        except BaseException as exc:  # SystemExit, KeyboardInterrupt, anything at import
            return {}, {
                "ok": False,
                "code": "exception",
                "message": f"{type(exc).__name__} while importing",
                "evidence": self.traceback(exc),
            }
        finally:
            _flush_learner_streams()
        return module.__dict__, None

    @staticmethod
    def _entry_point(
        namespace: dict[str, Any], name: str, module_name: str
    ) -> tuple[Callable[..., Any] | None, Reply]:
        """The entry point, or the reply naming what the file defines instead."""
        if name not in namespace:
            names = [
                k
                for k, v in namespace.items()
                if callable(v)
                and not k.startswith("_")
                and getattr(v, "__module__", None) == module_name
            ]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            return None, {
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
            return None, {
                "ok": False,
                "code": "entry_point_not_callable",
                "message": f"{name} is a {type_name(entry)}, not a function",
                "evidence": {"type": type_name(entry)},
            }
        return entry, {"ok": True}

    # --- call ------------------------------------------------------------------------------

    def call(self, request: dict[str, Any]) -> Reply:
        entry = self.entries.get(str(request.get("slot") or "main"))
        if entry is None:
            return {"ok": False, "kind": "protocol", "message": "call before a successful load"}
        args = [_argument(a) for a in request["args"]]
        seeded = _seed_generators()
        started = time.perf_counter()
        reply: Reply
        try:
            result = entry(*args)
            reply = self._to_wire(result)
        except MemoryError:
            reply = {"ok": False, "kind": "memory", "type": "MemoryError", "message": "MemoryError"}
        except BaseException as exc:  # the learner's SystemExit is a runtime error, not an exit
            reply = {"ok": False, "kind": "exception", **self.traceback(exc)}  # type: ignore[typeddict-item]
            if any(
                m in reply["message"] for m in OUT_OF_MEMORY_IN_MESSAGE
            ):  # XLA could not allocate
                reply = {**reply, "kind": "memory", "message": reply["message"][:500]}
        finally:
            _flush_learner_streams()
        reply["elapsed_s"] = time.perf_counter() - started
        if _generators_used(seeded):
            reply["global_random"] = True
        if self.observer is not None:
            reply["observations"] = self.observer.take()
        return reply

    def _to_wire(self, result: Any) -> Reply:
        """The learner's return value as an array, or a description of why it is not one."""
        other: Reply = {
            "ok": True,
            "kind": "other",
            "type": type_name(result),
            "repr": safe_repr(result),
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
        if not is_numeric(array.dtype):
            return other
        most = (self.config.get("limits") or {}).get("result_mb")  # none: the frame's own cap
        if most and array.nbytes > most * 1024 * 1024:
            return {
                "ok": False,
                "kind": "too_large",
                "message": f"output of {array.nbytes} bytes, shape {array.shape}",
            }
        return {
            "ok": True,
            "kind": "array",
            "type": type_name(result),
            "array": encode_array(array),
        }


def _argument(value: Any) -> Any:
    """A call's argument as the function gets it: an array in the kind the plan chose (a numpy
    array, or a jax.Array when the encoded form says ``"kind": "jax"``), an int as it is."""
    if not isinstance(value, dict):
        return value
    array = decode_array(value)
    if value.get("kind") == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    return array


_SEEDED: dict[str, Any] = {}


def _seed_generators() -> tuple[Any, Any]:
    """Seed Python's and numpy's global random generators with 0 before a call, as the
    reproducer does: code that draws from them then gives the same answer to the same inputs
    on every grading. Returns their seeded states, to tell afterwards whether the call drew."""
    random.seed(0)
    np.random.seed(0)
    if not _SEEDED:
        _SEEDED["python"] = random.getstate()
        _SEEDED["numpy"] = np.random.get_state()
    return _SEEDED["python"], _SEEDED["numpy"]


def _generators_used(seeded: tuple[Any, Any]) -> bool:
    """Whether the call drew from (or reseeded) a global generator since ``_seed_generators``."""
    try:
        python, numpy = seeded
        state: Any = np.random.get_state()
        return bool(
            random.getstate() != python
            or state[2:] != numpy[2:]
            or not np.array_equal(state[1], numpy[1])
        )
    except Exception:  # the learner replaced the generators: they were used
        return True


def _check_signature(
    entry: Callable[..., Any], name: str, expected: list[str]
) -> tuple[list[dict[str, str]], Reply | None]:
    """Warnings when only the parameters' names differ; a refusal when the function cannot
    take them positionally."""
    try:
        signature = inspect.signature(entry)
    except (TypeError, ValueError):
        return [], None
    try:
        signature.bind(*expected)
    except TypeError as exc:
        return [], {
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
    if got == expected:
        return [], None
    return [
        {
            "code": "signature_mismatch",
            "signature": f"{name}{signature}",
            "expected": f"{name}({', '.join(expected)})",
        }
    ], None
