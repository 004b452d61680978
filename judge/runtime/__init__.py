"""Everything that runs inside a worker process: the learner's side of the trust boundary.

A worker loads one Python file (a learner's submission, or the reference and its
fingerprints) and answers the judge's calls. This package is mounted, read-only and alone, into
every sandbox, and imported there as the top-level package ``judge_runtime``; so its modules
import only the standard library, numpy, JAX and Flax, and each other relatively, never the
rest of ``judge`` (a test enforces it). The judge's side imports ``wire`` (the codec and the
message types) and ``kernel`` (what the kernel offers), nothing else.

Modules: ``wire`` (frames, arrays, message types), ``session`` (load a file, run calls),
``observer`` (how the code uses Flax), ``guard`` (the audit-hook tripwire), ``limits`` (rlimits
and prctl set inside the worker), ``kernel`` (prctl and kernel probes), ``confine`` (Landlock
and seccomp), ``main`` (the process's entry point).
"""
