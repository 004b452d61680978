#!/usr/bin/env bash
# The GPU check, prepared for a machine with an NVIDIA GPU and jax[cuda12] installed; one
# command, a few minutes. From the repository root:  bash bench/gpu_check.sh
# It grades every bundled example with --backend gpu, checks each verdict against its folder,
# prints the device each report names, times a warm correct file, runs a small batch spread
# over the visible devices, and checks that float32 matmuls are not TF32 under `highest`.
# Everything it prints also goes to ${OUT:-/tmp}/gpu_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp}
log="$out/gpu_check.log"
python=${PYTHON:-python3}
"$python" -m pip install -q --no-deps -e . >/dev/null 2>&1 || "$python" -m pip install -q -e .
export JUDGE_CACHE_DIR="$out/judge-cache"
sandbox=${SANDBOX:-auto}
{
  echo "== devices"
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  "$python" - <<'PY'
import jax
print("jax", jax.__version__, "devices:", jax.devices())
import jax.numpy as jnp, numpy as np
a = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
exact = a.astype(np.float64) @ a.astype(np.float64)
with jax.default_matmul_precision("highest"):
    got = np.asarray(jnp.asarray(a) @ jnp.asarray(a))
err = float(np.max(np.abs(got - exact)) / np.max(np.abs(exact)))
print(f"float32 matmul at precision highest: max relative error {err:.2e}",
      "(ok: not TF32)" if err < 1e-5 else "(TOO LARGE: TF32?)")
PY
  echo "== every bundled example, --backend gpu --sandbox $sandbox"
  pass=0; fail=0
  for file in submissions/*/*/*.py submissions/*/*/*.ipynb; do
    [ -e "$file" ] || continue
    problem=$(echo "$file" | cut -d/ -f2); expected=$(echo "$file" | cut -d/ -f3)
    start=$(date +%s.%N)
    json=$("$python" -m judge grade "$file" --problem "$problem" --backend gpu \
      --sandbox "$sandbox" --format json 2>&1)
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
    verdict=$(echo "$json" | "$python" -c 'import json,sys
try:
    r=json.loads(sys.stdin.read()); print(r["verdict"], r["environment"].get("device"), r["environment"].get("sandbox"))
except Exception as e: print("no-report", e)')
    if [ "${verdict%% *}" = "$expected" ]; then pass=$((pass+1)); mark=ok; else fail=$((fail+1)); mark=MISMATCH; fi
    printf '%-8s %-70s %-24s %s  %.1fs\n' "$mark" "$file" "$expected" "$verdict" "$secs"
  done
  echo "examples: $pass as expected, $fail not"
  echo "== warm correct file, 3 runs"
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$python" -m judge grade submissions/nn_vmap_forward/accepted/canonical.py \
      --backend gpu --sandbox "$sandbox" --output /dev/null
    awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f s\n", b-a}'
  done
  echo "== forked workers start CUDA themselves: the same reports with the zygote and without"
  for flag in "" "--no-zygote"; do
    "$python" -m judge grade submissions/nn_vmap_forward/wrong_answer/column_major_flatten.py \
      --problem nn_vmap_forward --backend gpu --sandbox "$sandbox" --format json $flag \
      | "$python" -c 'import json,sys; r=json.load(sys.stdin); r.pop("timing")
print(r["verdict"], r["environment"]["device"], r["environment"].get("device_id"))
json.dump(r, open(sys.argv[1], "w"), sort_keys=True)' "$out/zygote${flag:-on}.json"
  done
  cmp -s "$out/zygoteon.json" "$out/zygote--no-zygote.json" && echo "zygote: identical reports" \
    || echo "zygote: REPORTS DIFFER (diff $out/zygoteon.json $out/zygote--no-zygote.json)"
  echo "== a batch of the accepted examples, --jobs 2, spread over CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}"
  CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0} "$python" -m judge batch \
    submissions/nn_vmap_forward/accepted --problem nn_vmap_forward --backend gpu \
    --sandbox "$sandbox" --out "$out/gpu-batch" --jobs 2
  "$python" - "$out/gpu-batch/reports.jsonl" <<'PY'
import collections, json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(collections.Counter((r["verdict"], r["environment"].get("device_id"),
                           r["environment"].get("device")) for r in rows))
PY
} 2>&1 | tee "$log"
