#!/usr/bin/env bash
# The action's plan step: `zdm plan` against the database, as a markdown comment (written to a
# file for comment.sh and to the job summary), a saved JSON plan, and `--format github`
# annotations on the schema files. Fails when the plan has a hazard INPUT_ALLOW_HAZARDS does
# not allow.
#
# Inputs (environment):
#   INPUT_DATABASE_URL   the live database (a read-only role is enough for planning)
#   INPUT_SCHEMA         schema paths (default "schema"; empty: zdm.toml's `schema`)
#   INPUT_ALLOW_HAZARDS  hazard kinds that do not fail the step: "data-loss,may-fail", "all"
#   INPUT_DEV_URL        optional: load the desired schema into this server, not an embedded one
#   INPUT_CONFIG         optional: the zdm.toml to read (zdm's default: ./zdm.toml)
#   INPUT_ANNOTATE       "false" leaves out the annotations (they cost a second plan)
# Outputs: changes (true/false), hazards (kinds, comma-separated), hazard-count,
#   disallowed-hazards, markdown-file, plan-file.
# Exit: 0 = plan made and every hazard allowed, 1 = a hazard is not allowed, 2 = error.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require zdm jq
export_database_url
zdm_common_args

# Which kinds are allowed, checked against the names zdm knows (a typo must not silently
# allow nothing, nor pass as a kind that never occurs).
split_list "${INPUT_ALLOW_HAZARDS:-}"
allowed=()
for kind in ${LIST[@]+"${LIST[@]}"}; do
    if [ "$kind" = all ]; then
        allowed=("${ZDM_HAZARD_KINDS[@]}")
        break
    fi
    case " ${ZDM_HAZARD_KINDS[*]} " in
    *" $kind "*) allowed+=("$kind") ;;
    *)
        gh_command error "zdm plan" "allow-hazards: unknown hazard kind '$kind' (${ZDM_HAZARD_KINDS[*]}, all)"
        exit 2
        ;;
    esac
done

dir=$(scratch_dir)
markdown_file="$dir/plan.md"
plan_file="$dir/plan.json"
errors="$dir/stderr"

# zdm plan exits 0 for no changes, 1 for a plan, 2 for an error; only 2 stops us.
status=0
zdm plan "${ZDM_ARGS[@]}" --format markdown --out "$plan_file" >"$markdown_file" 2>"$errors" ||
    status=$?
# zdm's notes (unmanaged objects, scope) belong in the log.
cat "$errors" >&2
if [ "$status" -ge 2 ]; then
    message=$(grep -v '^note:' "$errors" || true)
    gh_command error "zdm plan" "${message:-zdm plan exited with status $status}"
    {
        echo "## zdm plan failed"
        echo
        echo '```'
        cat "$errors"
        echo '```'
    } | summary
    exit 2
fi
changes=false
[ "$status" -eq 1 ] && changes=true

# Annotations at the schema files' lines. The rehearsal already ran above; this second plan
# only renders, so it skips it.
if [ "${INPUT_ANNOTATE:-true}" != false ] && [ "$changes" = true ]; then
    zdm plan "${ZDM_ARGS[@]}" --format github --no-rehearsal 2>/dev/null ||
        [ $? -eq 1 ] || echo "zdm plan --format github failed; no annotations" >&2
fi

# The saved plan exists only when there was something to plan.
hazards=()
if [ -s "$plan_file" ]; then
    while IFS= read -r kind; do
        hazards+=("$kind")
    done < <(jq -r '[.steps[].hazards[].kind] | unique | .[]' "$plan_file")
    hazard_count=$(jq '[.steps[].hazards[]] | length' "$plan_file")
else
    hazard_count=0
fi
disallowed=()
for kind in ${hazards[@]+"${hazards[@]}"}; do
    case " ${allowed[*]-} " in
    *" $kind "*) ;;
    *) disallowed+=("$kind") ;;
    esac
done

join() { local IFS=,; echo "$*"; }
set_output changes "$changes"
set_output hazards "$(join ${hazards[@]+"${hazards[@]}"})"
set_output hazard-count "$hazard_count"
set_output disallowed-hazards "$(join ${disallowed[@]+"${disallowed[@]}"})"
set_output markdown-file "$markdown_file"
set_output plan-file "$plan_file"

{
    cat "$markdown_file"
    echo
    if [ ${#disallowed[@]} -gt 0 ]; then
        echo "> [!CAUTION]"
        echo "> Hazards not allowed by \`allow-hazards\`: $(join "${disallowed[@]}")."
    elif [ ${#hazards[@]} -gt 0 ]; then
        echo "Hazards allowed by \`allow-hazards\`: $(join "${hazards[@]}")."
    fi
} | summary

if [ ${#disallowed[@]} -gt 0 ]; then
    gh_command error "zdm plan" "the plan has hazards that are not allowed: $(join "${disallowed[@]}"); read them, then add the kinds to allow-hazards"
    exit 1
fi
