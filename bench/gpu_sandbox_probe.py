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
                     b(confine._RET, confine._RET_ALLOW), b(confine._RET, confine._RET_ERRNO | 1)]
            return p[:-1] + [b(confine._JEQ, confine._num("socket", col), 0, len(block)), *block] + p[-1:]
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
    print(json.dumps(confine.confine(confine.Policy(read=tuple(p["read"]), write=tuple(p.get("w") or p["write"]),
          devices=tuple(p["devices"])))), flush=True)
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
    extra = [
        ("A judge's policy", []),
        ("B +/proc/driver/nvidia", ["/proc/driver/nvidia"]),
        ("C +/sys", ["/proc/driver/nvidia", "/sys"]),
        (
            "D +/etc +/usr/local/nvidia",
            ["/proc/driver/nvidia", "/sys", "/etc", "/usr/local/nvidia"],
        ),
        ("E +/proc", ["/proc", "/sys", "/etc", "/usr/local/nvidia"]),
    ]
    jobs = [("unconfined", {})]
    for label, more in extra[:0]:
        policy = {"read": base_read + more, "devices": devices}
        jobs.append((label, {"policy": dict(policy), "runtime": root}))
    jobs.append(
        (
            "E, no seccomp",
            {
                "policy": {"read": base_read + extra[-1][1], "devices": devices},
                "runtime": root,
                "no_seccomp": True,
            },
        )
    )
    jobs.append(
        (
            "A, no seccomp",
            {
                "policy": {"read": list(base_read), "devices": devices},
                "runtime": root,
                "no_seccomp": True,
            },
        )
    )
    everything = {"read": base_read, "devices": devices, "w": ["/"]}

    def proc_w(*where: str) -> dict:
        return {"read": list(base_read), "devices": devices, "w": list(where)}

    fallback = {"XLA_FLAGS": "--xla_gpu_unsafe_fallback_to_driver_on_ptxas_not_found=true"}
    for label, deny in (("connect allowed", []), ("connect denied", ["connect"]),
                        ("connect, sendto, sendmsg denied", ["connect", "sendto", "sendmsg"])):
        jobs.append((f"A + w /proc/self, AF_UNIX, {label}, driver PTX",
                     {"policy": proc_w("/proc/self"), "runtime": root, "socket_family": 1,
                      "deny": deny, "env": dict(fallback)}))
    jobs.append(("A + w /proc/self, no sockets, driver PTX",
                 {"policy": proc_w("/proc/self"), "runtime": root, "env": dict(fallback)}))
    with ThreadPoolExecutor(6) as pool:
        for line in pool.map(lambda j: run(*j), jobs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
