#!/usr/bin/env bash
# PrairieLearn's external grader runs this in the course image (its entrypoint). It grades
# the learner's file in $ROOT/student and always leaves $ROOT/results/results.json behind:
# a report in PrairieLearn's format, or, when the judge cannot grade at all (no file, a judge
# that cannot start), one with "gradable": false, so the attempt is not counted.
#
#   ROOT          the grading root (default /grade; tests point it at a temporary tree)
#   JUDGE         the judge command (default: judge on PATH)
#   JUDGE_PROBLEM the problem's name (default: the judge infers it from the file)
#   JUDGE_ASSIGNMENT an assignment to grade instead (its problems, its points)
#   JUDGE_PROBLEMS the problem set (default $ROOT/serverFilesCourse/problems when it exists)
#   JUDGE_SUBMISSION the file to grade, relative to $ROOT/student (default: the folder, whose
#                 file the judge picks by its one rule: the one that defines the function)
#   JUDGE_PICK    among several that do: first (by name; default), newest, or error
#   JUDGE_SANDBOX the isolation, as judge grade --sandbox (default auto)
set -uo pipefail
ROOT="${ROOT:-/grade}"
JUDGE="${JUDGE:-judge}"
RESULTS_DIR="$ROOT/results"
RESULTS="$RESULTS_DIR/results.json"
mkdir -p "$RESULTS_DIR"
rm -f "$RESULTS" "$RESULTS.part"

fail() {  # $1: the learner's message (plain words: no quotes or backslashes)
  printf '{"gradable": false, "score": 0.0, "message": "%s", "output": "%s", "tests": []}\n' \
    "$1" "$1" >"$RESULTS"
  echo "prairielearn_grade.sh: $1" >&2
  exit 0
}

if [ -n "${JUDGE_SUBMISSION:-}" ]; then
  file="$ROOT/student/$JUDGE_SUBMISSION"
else
  any="$(find "$ROOT/student" -type f \( -name '*.py' -o -name '*.ipynb' \) \
    ! -path '*/.*' 2>/dev/null | head -n 1)"
  [ -n "$any" ] || fail "No .py or .ipynb file was submitted."
  file="$ROOT/student"
fi
[ -e "$file" ] || fail "No .py or .ipynb file was submitted."

args=(grade "$file" --format prairielearn --sandbox "${JUDGE_SANDBOX:-auto}" --pick "${JUDGE_PICK:-first}")
[ -n "${JUDGE_PROBLEM:-}" ] && args+=(--problem "$JUDGE_PROBLEM")
[ -n "${JUDGE_ASSIGNMENT:-}" ] && args+=(--assignment "$JUDGE_ASSIGNMENT")
problems="${JUDGE_PROBLEMS:-$ROOT/serverFilesCourse/problems}"
[ -d "$problems" ] && args+=(--problems "$problems")

"$JUDGE" "${args[@]}" >"$RESULTS.part"
status=$?
# 0 accepted, 1 another verdict, 3 a judge error: each rendered as results.json.
if { [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || [ "$status" -eq 3 ]; } && [ -s "$RESULTS.part" ]; then
  mv "$RESULTS.part" "$RESULTS"
  exit 0
fi
rm -f "$RESULTS.part"
fail "The grader could not run (exit status $status): tell your instructor."
