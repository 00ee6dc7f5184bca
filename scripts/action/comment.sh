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

# curl METHOD URL [BODY_FILE]: the response body on stdout; an HTTP error fails with its body.
api_call() {
    local method=$1 url=$2 body=${3:-}
    local args=(--silent --show-error --fail-with-body --request "$method" --header "@$headers")
    if [ -n "$body" ]; then
        args+=(--header 'Content-Type: application/json' --data-binary "@$body")
    fi
    curl "${args[@]}" "$url"
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
    comments=$(api_call GET "$api/repos/$repo/issues/$INPUT_PR_NUMBER/comments?per_page=100&page=$page")
    existing=$(jq -r --arg marker "$marker" \
        '[.[] | select(.body | startswith($marker + "\n")) | .id] | first // empty' <<<"$comments")
    [ -n "$existing" ] && break
    [ "$(jq length <<<"$comments")" -lt 100 ] && break
done

if [ -n "$existing" ]; then
    response=$(api_call PATCH "$api/repos/$repo/issues/comments/$existing" "$body_file")
    action=updated
else
    response=$(api_call POST "$api/repos/$repo/issues/$INPUT_PR_NUMBER/comments" "$body_file")
    action=created
fi
id=$(jq -r '.id // empty' <<<"$response")
echo "zdm comment: $action comment ${id:-?} on $repo#$INPUT_PR_NUMBER"
set_output comment-id "$id"
set_output comment-action "$action"
