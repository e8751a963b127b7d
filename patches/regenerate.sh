#!/usr/bin/env bash
# Rebuild the scratch Kedro repository the patch series is made in, or export it.
#
#   patches/regenerate.sh [--kedro-version V] [--workdir DIR]
#       Download Kedro V's sdist (default 1.7.0), commit its tree to a fresh git
#       repository in DIR (default /tmp/kedro-pipelinename-upstream) as the
#       pristine base, and `git am` the series from patches/ on top. Edit the
#       code there and amend or add commits.
#
#   patches/regenerate.sh --export [--workdir DIR]
#       Replace patches/*.patch with `git format-patch` of every commit on top of
#       the pristine base in DIR.
#
# Nothing of Kedro's is kept in this repository: only the patch files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kedro_version="1.7.0"
workdir="/tmp/kedro-pipelinename-upstream"
export_only=0
python="${PYTHON:-python3}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --kedro-version) kedro_version="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --export) export_only=1; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "regenerate.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# Fixed identity and dates so that two exports of the same commits are identical.
export GIT_COMMITTER_NAME="kedro-pipelinename"
export GIT_COMMITTER_EMAIL="kedro-pipelinename@users.noreply.github.com"
export GIT_COMMITTER_DATE="2026-01-01T00:00:00+0000"
git_() { git -C "$workdir" -c user.name="$GIT_COMMITTER_NAME" -c user.email="$GIT_COMMITTER_EMAIL" "$@"; }

if [[ $export_only -eq 1 ]]; then
    base="$(git_ rev-list --max-parents=0 HEAD)"
    rm -f "$here"/*.patch
    git_ format-patch --no-signature --zero-commit -o "$here" "$base..HEAD"
    exit 0
fi

if [[ -e "$workdir" ]]; then
    echo "regenerate.sh: $workdir exists; remove it or pass --workdir" >&2
    exit 1
fi
download="$(mktemp -d)"
trap 'rm -rf "$download"' EXIT
"$python" -m pip download --quiet --no-deps --no-binary :all: \
    "kedro==$kedro_version" -d "$download"
tar --no-same-owner -xzf "$download/kedro-$kedro_version.tar.gz" -C "$download"
mkdir -p "$workdir"
# The sdist's tree as released, minus its build metadata.
(cd "$download/kedro-$kedro_version" && tar -cf - --exclude=PKG-INFO --exclude='*.egg-info' .) \
    | tar --no-same-owner -xf - -C "$workdir"
git_ init --quiet --initial-branch=main
printf '%s\n' '*.egg-info/' '__pycache__/' >> "$workdir/.git/info/exclude"
git_ add --all
git_ commit --quiet --message "Kedro $kedro_version as released (sdist)"
git_ am --quiet --committer-date-is-author-date "$here"/*.patch
git_ log --oneline
echo "Scratch repository ready: $workdir"
