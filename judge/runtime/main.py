"""A worker process's entry point: set limits, start JAX, then answer requests until told to exit.

Started by the judge (``judge.sandbox``) as ``python -I -B -c BOOTSTRAP REQ RESP CONFIG`` in a
fresh temporary folder: REQ and RESP are the pipes' file descriptors, CONFIG the JSON
``WorkerConfig``. Only the standard library is imported before the limits are set; numpy, JAX
and Flax come after. A worker forked by the zygote (``zygote``) has them imported already, by a
process that ran no learner code and started no backend, and calls ``serve`` the same way.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from .limits import apply_limits, limit_processes

if TYPE_CHECKING:  # numpy comes with .wire: only after the limits are set
    from .wire import Hello, WorkerConfig


def _start_jax(config: WorkerConfig) -> Hello:
    import jax
    import numpy as np

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
        try:  # JAX 0.4.33 and older have no such option (and no XLA caches to keep out)
            jax.config.update("jax_persistent_cache_enable_xla_caches", "none")
        except AttributeError:
            pass
    if config.get("shared_ir_context"):
        from .lowering import share_ir_contexts

        share_ir_contexts()
    devices = jax.devices()
    versions: dict[str, str | None] = {
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "numpy": np.__version__,
    }
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


def _hello(config: WorkerConfig, session: Any) -> Hello:
    """Start JAX and the observer with fds 1 and 2 quiet: JAX's start-up warnings are not the
    learner's output."""
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
    return hello


def _confine(config: WorkerConfig) -> dict[str, Any] | None:
    """Confine this process as the sandbox asked, before any other thread exists (numpy and JAX
    start theirs on import). None when no confinement was asked for."""
    asked = config.get("confine")
    if not asked:
        return None
    from .confine import Policy, confine

    policy = Policy(
        read=tuple(asked.get("read") or ()),
        write=tuple(asked.get("write") or ()),
        devices=(*Policy.devices, *(asked.get("devices_extra") or ())),
        file_size_mb=asked.get("file_size_mb"),
        system_read=tuple(asked["system_read"]) if "system_read" in asked else None,
        listed=tuple(asked.get("list") or ()),
    )
    return confine(policy)


def main(argv: list[str]) -> int:
    """A fresh interpreter's worker: argv is ``[_, REQ, RESP, CONFIG]``."""
    config: WorkerConfig = json.loads(argv[3])
    return serve(int(argv[1]), int(argv[2]), config)


def serve(request_fd: int, reply_fd: int, config: WorkerConfig) -> int:
    """Limits, confinement, JAX, then requests until told to exit; the exit status. Shared by a
    fresh interpreter (``main``) and a worker forked by the zygote (``zygote``), so that both
    are confined by the same code in the same order, before any learner code runs."""
    applied = apply_limits(config)
    try:
        confined = _confine(config)
    except Exception as exc:  # ConfineError, or an OSError the kernel gave
        from .wire import send_message

        failed = {"ok": False, "error": "sandbox_failed", "message": str(exc)[:500]}
        send_message(reply_fd, failed)
        return 0
    from .session import Session
    from .wire import MessageReader, send_message

    session = Session(config)
    hello = _hello(config, session)
    if hello["ok"]:
        applied["processes"] = limit_processes(config)
        hello["limits"] = applied
        if confined is not None:
            hello["confined"] = confined
    send_message(reply_fd, dict(hello))
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
        send_message(reply_fd, dict(reply))
