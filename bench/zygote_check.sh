#!/usr/bin/env bash
# The zygote on a machine with an accelerator (a few minutes): forked workers start the GPU
# backend themselves, reports are the same with and without the zygote, and the wall time of a
# warm `judge grade` with the zygote and with --no-zygote, alternating, on the GPU and the CPU.
# Run from the repository root: bash bench/zygote_check.sh [PYTHON] [SANDBOX]; BACKENDS="gpu cpu"
# and EXTRA (more options for every grading, such as "--memory 8192") may be set.
set -u
python=${1:-python3}
sandbox=${2:-landlock}
read -r -a extra <<< "${EXTRA:-}"
export JUDGE_CACHE_DIR=$(mktemp -d /tmp/judge-zygote-check-XXXX)
correct=submissions/nn_vmap_forward/accepted/canonical.py
wrong=submissions/nn_vmap_forward/wrong_answer/column_major_flatten.py
"$python" -c 'import hypothesis, rich, yaml, numpy, jax, flax; print("jax", jax.__version__, jax.devices())' || exit 1
grade() {  # backend file flag... -> "verdict device seconds", the report (no timing) in $report
  local backend=$1 file=$2; shift 2
  local start end
  start=$(date +%s.%N)
  "$python" -m judge grade "$file" --problem nn_vmap_forward --backend "$backend" \
    --sandbox "$sandbox" --format json "${extra[@]}" "$@" > "$JUDGE_CACHE_DIR/out.json" 2> "$JUDGE_CACHE_DIR/err.txt"
  end=$(date +%s.%N)
  "$python" - "$JUDGE_CACHE_DIR/out.json" "$start" "$end" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as exc:
    print("no report:", exc); sys.exit(0)
t = r.pop("timing")
print(r["verdict"], r["environment"].get("device"), f"{float(sys.argv[3]) - float(sys.argv[2]):.2f} s",
      "startup", round(t.get("startup_s", 0), 3), "learner", round(t.get("learner_s", 0), 3))
json.dump(r, open(sys.argv[1] + ".cmp", "w"), sort_keys=True)
PY
}
for backend in ${BACKENDS:-gpu cpu}; do
  echo "== $backend: warm-up (fills the cache)"
  grade "$backend" "$correct"; tail -3 "$JUDGE_CACHE_DIR/err.txt"
  for file in "$correct" "$wrong"; do
    echo "== $backend $file: zygote, then --no-zygote, 3 times"
    for _ in 1 2 3; do
      printf 'zygote    '; grade "$backend" "$file"; cp "$JUDGE_CACHE_DIR/out.json.cmp" "$JUDGE_CACHE_DIR/on.json"
      printf 'no-zygote '; grade "$backend" "$file" --no-zygote
      cmp -s "$JUDGE_CACHE_DIR/on.json" "$JUDGE_CACHE_DIR/out.json.cmp" && echo "  same report" \
        || { echo "  REPORTS DIFFER:"; diff <(tr ',' '\n' < "$JUDGE_CACHE_DIR/on.json") \
             <(tr ',' '\n' < "$JUDGE_CACHE_DIR/out.json.cmp") | head -20; }
    done
  done
done
if [ -n "${BATCH:-}" ]; then  # BATCH=N: a warm batch of N copies of the examples, on and off
  folder=$JUDGE_CACHE_DIR/class; mkdir -p "$folder"; k=0
  for f in submissions/nn_vmap_forward/*/*.py; do
    k=$((k + 1)); [ "$k" -le "$BATCH" ] && cp "$f" "$folder/student_$k.py"
  done
  for flag in "" --no-zygote; do
    start=$(date +%s.%N)
    "$python" -m judge batch "$folder" --problem nn_vmap_forward --backend cpu --sandbox "$sandbox" \
      --jobs 2 --out "$JUDGE_CACHE_DIR/out${flag}" "${extra[@]}" ${flag} > /dev/null 2>&1
    awk -v a="$start" -v b="$(date +%s.%N)" -v f="${flag:-zygote}" \
      'BEGIN{printf "batch of %s, %s: %.1f s\n", "'"$BATCH"'", f, b-a}'
  done
fi
rm -rf "$JUDGE_CACHE_DIR"
