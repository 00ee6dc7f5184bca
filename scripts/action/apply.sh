#!/usr/bin/env bash
# The action's apply step: `zdm apply --phase PHASE --yes` against the database, its output in
# the job summary, then `zdm status --format json` for what is left.
#
# Inputs (environment):
#   INPUT_DATABASE_URL   the live database (a role that may change the schema)
#   INPUT_PHASE          expand | backfill | validate | contract | all
#   INPUT_SCHEMA         schema paths (default "schema"; empty: zdm.toml's `schema`)
#   INPUT_ALLOW_HAZARDS  passed to --allow-hazards ("data-loss,may-fail", "all")
#   INPUT_DEV_URL        optional: load the desired schema into this server, not an embedded one
#   INPUT_CONFIG         optional: the zdm.toml to read (zdm's default: ./zdm.toml)
#   INPUT_ARGS           optional: more flags for zdm apply, e.g. "--skip-rollback-window"
# Outputs: phase, pending-phases (comma-separated, from zdm status), status-file.
# Exit: zdm apply's status (0 = applied or nothing to do, 2 = error or refused).
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require zdm jq
export_database_url
zdm_common_args

phase=${INPUT_PHASE:-}
case "$phase" in
expand | backfill | validate | contract | all) ;;
*)
    gh_command error "zdm apply" "phase must be expand, backfill, validate, contract or all, not '$phase'"
    exit 2
    ;;
esac

args=("${ZDM_ARGS[@]}" --phase "$phase" --yes)
split_list "${INPUT_ALLOW_HAZARDS:-}"
if [ ${#LIST[@]} -gt 0 ]; then
    args+=(--allow-hazards "$(IFS=,; echo "${LIST[*]}")")
fi
split_list "${INPUT_ARGS:-}"
args+=(${LIST[@]+"${LIST[@]}"})

dir=$(scratch_dir)
log="$dir/apply.log"
status=0
# Progress goes to the log as it happens; a copy is kept for the summary.
zdm apply "${args[@]}" 2>&1 | tee "$log" || status=$?
set_output phase "$phase"

{
    echo "## zdm apply --phase $phase"
    echo
    echo '```'
    cat "$log"
    echo '```'
} | summary

if [ "$status" -ne 0 ]; then
    message=$(grep -v '^note:' "$log" | grep -v '^$' | tail -n 20 || true)
    gh_command error "zdm apply" "${message:-zdm apply exited with status $status}"
    exit "$status"
fi

# What is left, for the summary and for a workflow that starts the next phase. zdm status
# exits 0 when nothing is pending, 1 when something is, 2 on an error.
status_file="$dir/status.json"
status=0
zdm status "${ZDM_ARGS[@]}" --format json >"$status_file" || status=$?
if [ "$status" -le 1 ]; then
    pending=$(jq -r '[.phases[] | select(.state == "pending" or .state == "moved") | .phase] | join(",")' "$status_file")
    set_output pending-phases "$pending"
    set_output status-file "$status_file"
    {
        echo
        echo "| phase | state |"
        echo "|---|---|"
        jq -r '.phases[] | "| \(.phase) | \(.state) |"' "$status_file"
    } | summary
else
    gh_command warning "zdm status" "zdm status failed after the apply (see the log); the apply itself succeeded"
fi
