# shellcheck shell=bash
# Shared by the action's scripts (sourced, not run). They take their inputs from INPUT_*
# variables, which action.yml sets from the action's inputs, so each script also runs outside
# GitHub: set the variables, point GITHUB_OUTPUT and GITHUB_STEP_SUMMARY at files, run it.

# The hazard kinds zdm knows (`zdm apply --help`); `all` stands for every one of them.
# shellcheck disable=SC2034 # used by the scripts that source this file
ZDM_HAZARD_KINDS=(data-loss table-rewrite long-lock not-online may-fail access-change access-loss)

# A workflow command's message, escaped as the runner expects (as zdm's own --format github
# does): `%` starts an escape and a line break would end the message.
gh_escape() {
    local text=$1
    text=${text//'%'/'%25'}
    text=${text//$'\r'/'%0D'}
    text=${text//$'\n'/'%0A'}
    printf '%s' "$text"
}

# `::error title=TITLE::MESSAGE` and friends, on stdout where the runner reads them.
gh_command() {
    local level=$1 title=$2 message=$3
    printf '::%s title=%s::%s\n' "$level" "$title" "$(gh_escape "$message")"
}

# Append `name=value` to the step's outputs. A value with a line break uses the delimiter
# form, with a delimiter that cannot occur in it.
set_output() {
    local name=$1 value=$2
    local file=${GITHUB_OUTPUT:-/dev/null}
    if [[ $value == *$'\n'* ]]; then
        local delimiter="ZDM_EOF_$RANDOM$RANDOM"
        printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >>"$file"
    else
        printf '%s=%s\n' "$name" "$value" >>"$file"
    fi
}

# Append stdin to the job summary (a no-op outside a runner).
summary() {
    cat >>"${GITHUB_STEP_SUMMARY:-/dev/null}"
}

# A scratch directory for this step's files: the runner's temp directory when there is one.
scratch_dir() {
    mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/zdm-action.XXXXXX"
}

# Split a list given as one input ("a,b c\nd") into the array LIST. (No namerefs: macOS's
# /bin/bash is 3.2.) Word splitting is the point here, globbing is not: hence `set -f`.
split_list() {
    local text=$1 item
    LIST=()
    set -f
    for item in ${text//,/ }; do
        LIST+=("$item")
    done
    set +f
}

# The arguments every zdm command of the action shares: schema paths, the shadow server, the
# configuration file. INPUT_SCHEMA may name several paths (comma, space or newline separated);
# empty leaves the choice to zdm.toml (or zdm's default, ./schema).
# The result is the array ZDM_ARGS.
zdm_common_args() {
    local path
    ZDM_ARGS=()
    split_list "${INPUT_SCHEMA-schema}"
    for path in ${LIST[@]+"${LIST[@]}"}; do
        ZDM_ARGS+=(--schema "$path")
    done
    if [ -n "${INPUT_DEV_URL:-}" ]; then
        ZDM_ARGS+=(--dev-url "$INPUT_DEV_URL")
    fi
    if [ -n "${INPUT_CONFIG:-}" ]; then
        ZDM_ARGS+=(--config "$INPUT_CONFIG")
    fi
}

# The connection goes to zdm through DATABASE_URL, not --db: a command line is visible to
# every process on the machine (ps), the environment only to the same user.
export_database_url() {
    if [ -z "${INPUT_DATABASE_URL:-}" ]; then
        gh_command error "zdm" "the database-url input is empty (set it from a secret)"
        exit 2
    fi
    export DATABASE_URL=$INPUT_DATABASE_URL
}

require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            gh_command error "zdm" "$tool is needed on the runner but was not found on PATH"
            exit 2
        }
    done
}
