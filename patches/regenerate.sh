#!/usr/bin/env bash
# Rebuild the upstream patch series from clean Kedro trees.
#
#   patches/regenerate.sh [--sdist FILE]
#       One command, from scratch: make Kedro main (d58a0b1, from ../shared, offline)
#       a git repository, `git am` patches/*.patch on it and export its commits
#       again to patches/*.patch; then `git am` the commits that touch only kedro/
#       and tests/ on the kedro 1.7.0 sdist (downloaded from PyPI unless --sdist is
#       given) and export those to patches/1.7.0/. Without edits both series come
#       out byte for byte the same (`git status patches` stays clean).
#
#   patches/regenerate.sh --setup [--workdir DIR]
#       Only make DIR/main (default /tmp/kedro-pipelinename-upstream/main): Kedro
#       main with the series applied, one commit per patch. Edit there (amend,
#       `git rebase -i base`, add commits), then:
#
#   patches/regenerate.sh --export [--workdir DIR] [--sdist FILE]
#       Export DIR/main's commits above its "base" tag to patches/*.patch and
#       rebuild patches/1.7.0/ from them.
#
# A commit must either touch only kedro/ and tests/ (it goes into both series) or
# touch neither (RELEASE.md, docs/: main only); one that mixes them is an error.
# Nothing of Kedro's is kept in this repository: only the patch files.
set -euo pipefail

# shellcheck source=patches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode="all"
workdir=""
sdist=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --setup) mode="setup"; shift ;;
        --export) mode="export"; shift ;;
        --workdir) workdir="$2"; shift 2 ;;
        --sdist) sdist="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if [[ "$mode" == "all" ]]; then
    workdir="$scratch/work"
else
    workdir="${workdir:-/tmp/kedro-pipelinename-upstream}"
fi

if [[ "$mode" != "export" ]]; then
    [[ ! -e "$workdir/main" ]] || die "$workdir/main exists; remove it or pass --workdir"
    make_main_repo "$workdir/main"
    apply_series "$workdir/main" "$PATCHES_DIR"/*.patch
    if [[ "$mode" == "setup" ]]; then
        git -C "$workdir/main" log --oneline base..HEAD
        echo "Scratch repository ready: $workdir/main (edit, then: $0 --export --workdir $workdir)"
        exit 0
    fi
fi

main_repo="$workdir/main"
[[ -d "$main_repo/.git" ]] || die "$main_repo is no scratch repository; run $0 --setup first"
export_series "$main_repo" "$PATCHES_DIR"

# Which commits go into the 1.7.0 series: those that touch only files the sdist ships.
mapfile -t commits < <(git -C "$main_repo" rev-list --reverse base..HEAD)
mapfile -t main_patches < <(printf '%s\n' "$PATCHES_DIR"/*.patch)
[[ ${#commits[@]} -eq ${#main_patches[@]} ]] || die "commits and patch files differ in number"
release_patches=()
for index in "${!commits[@]}"; do
    paths="$(git -C "$main_repo" diff-tree --no-commit-id --name-only -r "${commits[$index]}")"
    shipped="$(grep -cE '^(kedro|tests)/' <<<"$paths" || true)"
    total="$(wc -l <<<"$paths")"
    if [[ "$shipped" -eq "$total" ]]; then
        release_patches+=("${main_patches[$index]}")
    elif [[ "$shipped" -eq 0 ]]; then
        echo "main only (the sdist ships no such files): $(basename "${main_patches[$index]}")"
    else
        die "$(basename "${main_patches[$index]}") mixes kedro/ or tests/ with other files; split it"
    fi
done

if [[ -z "$sdist" ]]; then
    sdist="$(download_sdist "$scratch")"
fi
make_release_repo "$scratch/release" "$sdist"
apply_series "$scratch/release" "${release_patches[@]}"
export_series "$scratch/release" "$RELEASE_PATCHES_DIR"

echo "main ($MAIN_COMMIT): $(git -C "$main_repo" rev-list --count base..HEAD) patches in patches/"
echo "kedro $RELEASE_VERSION: ${#release_patches[@]} patches in patches/$RELEASE_VERSION/"
