#!/usr/bin/env bash
# The action's comment step: one sticky pull-request comment with the plan. The first run
# posts it; later runs on the same pull request edit that comment (found by a hidden marker)
# instead of adding another.
#
# Inputs (environment):
#   INPUT_GITHUB_TOKEN    a token that may write issues/pull requests; empty: skip with a notice
#   INPUT_MARKDOWN_FILE   the comment's text (plan.sh's markdown-file output)
#   INPUT_PR_NUMBER       the pull request (the action passes github.event.pull_request.number)
#   INPUT_COMMENT_TAG     optional: tells apart the comments of several zdm jobs on one PR
#   GITHUB_API_URL, GITHUB_REPOSITORY   set by the runner (a test points the API at its own server)
# Outputs: comment-id, comment-action (created / updated / skipped).
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip() {
    echo "zdm comment: $1; no comment posted"
    set_output comment-action skipped
    exit 0
}

[ -n "${INPUT_GITHUB_TOKEN:-}" ] || skip "no github-token"
[ -n "${INPUT_PR_NUMBER:-}" ] || skip "not a pull request (no pull request number)"
require curl jq
markdown_file=${INPUT_MARKDOWN_FILE:-}
if [ -z "$markdown_file" ] || [ ! -f "$markdown_file" ]; then
    gh_command error "zdm comment" "no plan to post: markdown file '${markdown_file}' is missing (did the plan step fail?)"
    exit 2
fi
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
api=${GITHUB_API_URL:?GITHUB_API_URL is not set}
api=${api%/}
marker="<!-- zdm-plan${INPUT_COMMENT_TAG:+ $INPUT_COMMENT_TAG} -->"

dir=$(scratch_dir)
# The token goes to curl in a header file, not on its command line (visible in ps).
headers="$dir/headers"
printf 'Authorization: Bearer %s\n' "$INPUT_GITHUB_TOKEN" >"$headers"
printf 'Accept: application/vnd.github+json\nX-GitHub-Api-Version: 2022-11-28\n' >>"$headers"

# api_call METHOD URL [BODY_FILE]: the response body in $response. An HTTP error stops the
# step with the API's own message (a token without pull-requests: write gets a 403 saying so).
# Not called in $(...): the error annotation and the exit must reach the step itself.
response="$dir/response"
api_call() {
    local method=$1 url=$2 body=${3:-}
    local code
    local args=(--silent --show-error --request "$method" --header "@$headers"
        --output "$response" --write-out '%{http_code}')
    if [ -n "$body" ]; then
        args+=(--header 'Content-Type: application/json' --data-binary "@$body")
    fi
    code=$(curl "${args[@]}" "$url") || {
        gh_command error "zdm comment" "cannot reach the GitHub API at $api"
        exit 2
    }
    if [ "${code:0:1}" != 2 ]; then
        gh_command error "zdm comment" "$method ${url#"$api"}: HTTP $code: $(head -c 2000 "$response")"
        exit 2
    fi
}

# GitHub refuses comments over 65,536 characters; a longer plan points to the job summary.
text_file="$dir/text.md"
if [ "$(wc -c <"$markdown_file")" -gt 65000 ]; then
    run_url="${GITHUB_SERVER_URL:-}/${repo}/actions/runs/${GITHUB_RUN_ID:-}"
    {
        head -n 3 "$markdown_file"
        echo
        echo "The whole plan is too long for a comment: see the [job summary]($run_url)."
    } >"$text_file"
else
    cp "$markdown_file" "$text_file"
fi
# The text is read from a file (--rawfile): one argument may not exceed 128 KiB.
body_file="$dir/body.json"
jq -n --arg marker "$marker" --rawfile text "$text_file" '{body: ($marker + "\n" + $text)}' >"$body_file"

# Look for our earlier comment, 100 per page (a pull request with more than 1,000 comments
# gets a new one).
existing=
for page in 1 2 3 4 5 6 7 8 9 10; do
    api_call GET "$api/repos/$repo/issues/$INPUT_PR_NUMBER/comments?per_page=100&page=$page"
    existing=$(jq -r --arg marker "$marker" \
        '[.[] | select(.body | startswith($marker + "\n")) | .id] | first // empty' "$response")
    [ -n "$existing" ] && break
    [ "$(jq length "$response")" -lt 100 ] && break
done

if [ -n "$existing" ]; then
    api_call PATCH "$api/repos/$repo/issues/comments/$existing" "$body_file"
    action=updated
else
    api_call POST "$api/repos/$repo/issues/$INPUT_PR_NUMBER/comments" "$body_file"
    action=created
fi
id=$(jq -r '.id // empty' "$response")
echo "zdm comment: $action comment ${id:-?} on $repo#$INPUT_PR_NUMBER"
set_output comment-id "$id"
set_output comment-action "$action"
