#!/usr/bin/env bash
# The action's install step: put `zdm` on the PATH of the job's later steps, and make sure the
# PostgreSQL server binaries the embedded shadow needs (initdb, postgres) are there.
#
# Inputs (environment):
#   INPUT_ZDM_VERSION     "0.2.0" or "v0.2.0": that release's binary, checked against its
#                         .sha256; "preinstalled": the zdm already on PATH; empty: build the
#                         action's own checkout (cargo install --locked --path).
#   INPUT_ZDM_REPOSITORY  owner/name of the releases (the action passes its own repository)
#   INPUT_DEV_URL         when set, the shadow is that server and no PostgreSQL is installed
#   GITHUB_ACTION_PATH, GITHUB_SERVER_URL, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH:
#                         set by the runner (a test points GITHUB_SERVER_URL at its own server)
# Outputs: zdm-path, zdm-version.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/zdm-install"
bin="$root/bin"
mkdir -p "$bin"

# The release target for this runner: the names release.yml builds.
release_target() {
    case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64) echo aarch64-unknown-linux-musl ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

download_release() {
    local version=${1#v}
    local repo=${INPUT_ZDM_REPOSITORY:?INPUT_ZDM_REPOSITORY (owner/name of the releases) is not set}
    local target
    target=$(release_target) || {
        gh_command error "zdm install" "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; leave zdm-version empty to build from source"
        exit 2
    }
    require curl tar
    local archive="zdm-v$version-$target.tar.gz"
    local url="${GITHUB_SERVER_URL:?GITHUB_SERVER_URL is not set}/$repo/releases/download/v$version/$archive"
    local work
    work=$(scratch_dir)
    echo "downloading $url"
    curl --silent --show-error --fail --location --retry 3 --output "$work/$archive" "$url"
    curl --silent --show-error --fail --location --retry 3 --output "$work/$archive.sha256" "$url.sha256"
    # The .sha256 file is `sha256sum` output: the digest, two spaces, the file name.
    local expected actual
    expected=$(cut -d' ' -f1 <"$work/$archive.sha256")
    actual=$(sha256_of "$work/$archive")
    if [ "$expected" != "$actual" ]; then
        gh_command error "zdm install" "checksum mismatch for $archive: expected $expected, got $actual"
        exit 2
    fi
    tar -xzf "$work/$archive" -C "$work"
    install -m 0755 "$work/zdm" "$bin/zdm"
}

build_from_source() {
    require cargo
    # libclang for pg_query's build (apt-get on Debian and Ubuntu); macOS has it with Xcode.
    if [ "$(uname -s)" = Linux ]; then
        "$action_path/scripts/install-deps"
    fi
    echo "building zdm from $action_path"
    cargo install --locked --path "$action_path" --root "$root"
}

version=${INPUT_ZDM_VERSION:-}
case "$version" in
"") build_from_source ;;
preinstalled)
    require zdm
    bin=$(dirname "$(command -v zdm)")
    ;;
*) download_release "$version" ;;
esac

# The later steps of the job find zdm on their PATH (and so does the rest of this one).
echo "$bin" >>"${GITHUB_PATH:-/dev/null}"
export PATH="$bin:$PATH"
set_output zdm-path "$bin/zdm"
set_output zdm-version "$(zdm --version | cut -d' ' -f2)"

# The embedded shadow needs initdb and postgres, found as zdm finds them (ZDM_PG_BIN, PATH,
# /usr/lib/postgresql/*/bin; Ubuntu runners have a server installed there). With a dev-url
# there is no embedded shadow.
if [ -z "${INPUT_DEV_URL:-}" ]; then
    if [ -n "${ZDM_PG_BIN:-}" ] || command -v initdb >/dev/null ||
        compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        :
    elif command -v apt-get >/dev/null; then
        sudo=()
        [ "$(id -u)" -ne 0 ] && sudo=(sudo)
        echo "installing the PostgreSQL server binaries for the embedded shadow"
        "${sudo[@]+"${sudo[@]}"}" apt-get update -qq
        "${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        gh_command warning "zdm install" "no PostgreSQL server binaries (initdb) found for the embedded shadow: install PostgreSQL and set ZDM_PG_BIN, or set dev-url"
    fi
fi
