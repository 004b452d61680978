"""What a confined worker needs to start JAX's CUDA backend (run on a machine with a GPU).

Each policy below runs in a fresh process: the judge's Landlock + seccomp confinement with that
policy, then ``jax.devices('gpu')`` and one matmul. It prints, per policy, ``OK`` or the error's
last lines, so one run on a lent GPU machine says which paths the landlock sandbox must allow.
Then the same for the address-space limit (``--memory``): which RLIMIT_AS lets CUDA start.

    python bench/gpu_sandbox_probe.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from judge.sandbox.base import RUNTIME_DIR, python_paths
from judge.sandbox.environment import worker_environment
from judge.sandbox.landlock import device_files

CHILD = r"""
import json, os, resource, sys
spec = json.loads(sys.argv[1])
if spec.get("as_mb"):
    limit = spec["as_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
if spec.get("policy") is not None:
    sys.path.insert(0, spec["runtime"])
    from judge.runtime import confine
    if spec.get("no_seccomp"):
        confine._seccomp = lambda arch: "off (probe)"
    if spec.get("keep_caps"):
        confine._drop_capabilities = lambda col: None
    if spec.get("no_landlock"):
        confine._landlock = lambda policy, abi, threads: {"landlock": "off (probe)"}
    if spec.get("no_scopes"):
        confine._SCOPE_ABSTRACT_UNIX = confine._SCOPE_SIGNAL = 0
    if spec.get("no_net"):
        confine._NET_BIND_TCP = confine._NET_CONNECT_TCP = 0
    if spec.get("socket_family") is not None:
        family = spec["socket_family"]
        confine._DENIED = tuple(n for n in confine._DENIED if n != "socket")
        original = confine._seccomp_program
        def program(audit_arch, col, x32):
            p = original(audit_arch, col, x32)
            b = confine._bpf
            block = [b(confine._LD_ABS_W, 16), b(confine._JEQ, family, 0, 1),
                     b(confine._RET, confine._RET_ALLOW),
                     b(confine._RET, confine._RET_ERRNO | 1)]
            jump = b(confine._JEQ, confine._num("socket", col), 0, len(block))
            return p[:-1] + [jump, *block] + p[-1:]
        confine._seccomp_program = program
    for name in spec.get("deny") or ():
        confine._NR[name] = {"connect": (42, 203), "sendto": (44, 206), "sendmsg": (46, 211)}[name]
        confine._DENIED = (*confine._DENIED, name)
    if spec.get("allow"):
        confine._DENIED = tuple(n for n in confine._DENIED if n not in set(spec["allow"]))
    if spec.get("no_nnp"):
        real = confine._prctl
        confine._prctl = lambda option, *a: 0 if option == 38 else real(option, *a)
    p = spec["policy"]
    writes = tuple(p.get("w") or p["write"])
    chosen = confine.Policy(read=tuple(p["read"]), write=writes, devices=tuple(p["devices"]))
    print(json.dumps(confine.confine(chosen)), flush=True)
import jax, jax.numpy as jnp
d = jax.devices("gpu")
x = jnp.ones((64, 64))
print("OK", d, float((x @ x).sum()), flush=True)
"""


def run(label: str, spec: dict) -> str:
    with tempfile.TemporaryDirectory(prefix="probe-") as home:
        env = worker_environment("gpu", home)
        env.update(spec.pop("env", {}))
        if spec.get("policy") is not None:
            spec["policy"]["write"] = [home]
            if spec["policy"].get("w"):
                spec["policy"]["w"] = [*spec["policy"]["w"], home]
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", CHILD, json.dumps(spec)],
                env=env,
                cwd=home,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            return f"{label}: TIMEOUT"
    out = (done.stdout + done.stderr).strip().splitlines()
    ok = any(line.startswith("OK") for line in out)
    said = [
        line for line in out if any(w in line for w in ("rror", "not found", "Unable", "nable to"))
    ]
    tail = " | ".join(line[:300] for line in [*said[:4], *out[-2:]])
    return f"{label}: {'OK' if ok else f'FAIL rc={done.returncode}'} :: {tail}"


def main() -> None:
    import judge

    root = os.path.dirname(os.path.dirname(judge.__file__))
    base_read = [*python_paths(sys.executable), str(RUNTIME_DIR), root]
    devices = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", *device_files("gpu")]
    print("devices:", device_files("gpu"))
    print(
        "env:",
        {
            k: v
            for k, v in os.environ.items()
            if "CUDA" in k or "NVIDIA" in k or k.startswith("LD_")
        },
    )
    base = {"read": base_read, "devices": devices}

    def policy(*writes: str) -> dict:
        return {**base, "w": list(writes)} if writes else dict(base)

    fallback = {"XLA_FLAGS": "--xla_gpu_unsafe_fallback_to_driver_on_ptxas_not_found=true"}
    # What was found on an H200 (2026-11-30): the judge's policy fails at cuInit; it passes with
    # an AF_UNIX socket allowed (connect, sendto, sendmsg still refused) and writes under
    # /proc/self; XLA then needs ptxas (a process start), refused; the flag does not help.
    jobs = [
        ("unconfined", {}),
        ("the judge's policy", {"policy": policy(), "runtime": root}),
        ("+ no seccomp", {"policy": policy(), "runtime": root, "no_seccomp": True}),
        (
            "+ write /proc/self, no seccomp",
            {"policy": policy("/proc/self"), "runtime": root, "no_seccomp": True},
        ),
        (
            "+ write /proc/self, AF_UNIX without connect/sendto/sendmsg",
            {
                "policy": policy("/proc/self"),
                "runtime": root,
                "socket_family": 1,
                "deny": ["connect", "sendto", "sendmsg"],
            },
        ),
        (
            "+ the same, driver PTX fallback flag",
            {
                "policy": policy("/proc/self"),
                "runtime": root,
                "socket_family": 1,
                "deny": ["connect", "sendto", "sendmsg"],
                "env": dict(fallback),
            },
        ),
        (
            "+ write everywhere, landlock only (no seccomp)",
            {"policy": policy("/"), "runtime": root, "no_seccomp": True},
        ),
    ]
    jobs += [(f"RLIMIT_AS {mb} MB", {"as_mb": mb}) for mb in (4096, 16384, 65536)]
    with ThreadPoolExecutor(6) as pool:
        for line in pool.map(lambda j: run(*j), jobs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
