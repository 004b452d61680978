#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (jax with CUDA): three files graded with --backend gpu, with
# the shared MLIR context (runtime/lowering.py) on and off, and their reports compared. Writes
# under $OUT. From the repository root: OUT=/tmp/out bash bench/gpu_shared_context.sh
# Run from the checkout (python3 -m judge), so no install is needed; one is tried for its entry point.
python3 -m pip install -q --no-deps -e . >/dev/null 2>&1 || echo "(pip install -e . failed: grading from the checkout)"
export JUDGE_CACHE_DIR=$OUT/cache
S=$(date +%s)
for v in 1 0 1; do
  for f in accepted/canonical.py wrong_answer/column_major_flatten.py wrong_answer/split_rngs_ensemble.py; do
    a=$(date +%s.%N)
    JUDGE_SHARED_IR_CONTEXT=$v timeout 60 python3 -m judge grade submissions/nn_vmap_forward/$f --backend gpu --sandbox none --format json --output $OUT/$v-$(basename $f .py).json >/dev/null 2>$OUT/err-$v-$(basename $f .py).txt
    echo "shared=$v $f rc=$? $(python3 -c "print(round($(date +%s.%N)-$a,2))")s"
    [ $(( $(date +%s) - S )) -gt 150 ] && break 2
  done
done
python3 - <<'PY'
import json, os, glob
out = os.environ["OUT"]
for name in ("canonical", "column_major_flatten", "split_rngs_ensemble"):
    reps = {}
    for v in ("1", "0"):
        p = f"{out}/{v}-{name}.json"
        if os.path.exists(p):
            r = json.load(open(p)); t = r.pop("timing"); r.get("environment", {}).pop("timing", None)
            reps[v] = r
            print(name, "shared" if v == "1" else "own", r["verdict"], r["score"], r["environment"].get("device"), "learner_s", round(t.get("learner_s", 0), 2))
    if len(reps) == 2:
        print(name, "identical reports:", json.dumps(reps["1"], sort_keys=True) == json.dumps(reps["0"], sort_keys=True))
PY
