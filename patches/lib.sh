# Shared by regenerate.sh and check.sh (sourced, not run): how the two bases the
# series applies to are made into git repositories, and how it is applied.
#
#   main   kedro-org/kedro main at d58a0b1: ../shared/kedro-src/main-d58a0b1 (sources,
#          RELEASE.md, docs/) plus ../shared/kedro-tests/main-d58a0b1/tests, offline.
#   1.7.0  the kedro 1.7.0 sdist from PyPI (kedro/, two files of tests/, no
#          RELEASE.md, no docs/), minus its build metadata.

PATCHES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_ROOT="$(dirname "$PATCHES_DIR")"
SHARED_DIR="${KEDRO_SHARED_DIR:-$(dirname "$PROJECT_ROOT")/shared}"
MAIN_COMMIT="d58a0b1"
MAIN_SRC="$SHARED_DIR/kedro-src/main-$MAIN_COMMIT"
MAIN_TESTS="$SHARED_DIR/kedro-tests/main-$MAIN_COMMIT"
RELEASE_VERSION="1.7.0"
#: The series for main is patches/*.patch; the one for the 1.7.0 sdist is
#: patches/1.7.0/*.patch: the same commits minus those that touch files the sdist
#: does not ship (RELEASE.md, docs/).
RELEASE_PATCHES_DIR="$PATCHES_DIR/$RELEASE_VERSION"

# Fixed identity and dates, so that exporting the same commits twice gives the
# same files byte for byte.
export GIT_AUTHOR_NAME="kedro-pipelinename"
export GIT_AUTHOR_EMAIL="kedro-pipelinename@users.noreply.github.com"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME"
export GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_COMMITTER_DATE="2026-01-01T00:00:00+0000"
# Never let git pick up a repository above the scratch directories, or the
# user's own configuration (hooks, signing, am.threeWay).
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL=/dev/null

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# init_base_repo DIR MESSAGE: commit DIR's tree as the pristine base.
init_base_repo() {
    git -C "$1" init --quiet --initial-branch=main
    printf '%s\n' '*.egg-info/' '__pycache__/' '*.pyc' >> "$1/.git/info/exclude"
    # --force: the tree as shipped, also the files that Kedro's project template
    # lists in its own .gitignore (conf/local/credentials.yml, data/.gitkeep, ...).
    git -C "$1" add --all --force
    git -C "$1" commit --quiet --message "$2"
    git -C "$1" tag base
}

# make_main_repo DIR: Kedro main at d58a0b1 with its tests, committed as "base".
make_main_repo() {
    [[ -d "$MAIN_SRC/kedro" && -d "$MAIN_TESTS/tests" ]] \
        || die "Kedro main sources or tests not found under $SHARED_DIR (set KEDRO_SHARED_DIR)"
    mkdir -p "$1"
    cp -R "$MAIN_SRC/." "$1/"
    cp -R "$MAIN_TESTS/tests" "$1/tests"
    chmod -R u+w "$1"  # the shared trees may be read-only
    init_base_repo "$1" "kedro-org/kedro main at $MAIN_COMMIT (sources and tests)"
}

# download_sdist DIR: print the path of the kedro 1.7.0 sdist, downloaded into DIR.
download_sdist() {
    "${PYTHON:-python3}" -m pip download --quiet --no-deps --no-binary :all: \
        "kedro==$RELEASE_VERSION" -d "$1" >&2 \
        || die "could not download the kedro $RELEASE_VERSION sdist from PyPI"
    echo "$1/kedro-$RELEASE_VERSION.tar.gz"
}

# make_release_repo DIR SDIST: the sdist's tree as released, committed as "base".
make_release_repo() {
    local unpacked
    unpacked="$(mktemp -d)"
    tar --no-same-owner -xzf "$2" -C "$unpacked"
    mkdir -p "$1"
    (cd "$unpacked/kedro-$RELEASE_VERSION" \
        && tar -cf - --exclude=PKG-INFO --exclude='*.egg-info' .) \
        | tar --no-same-owner -xf - -C "$1"
    rm -rf "$unpacked"
    init_base_repo "$1" "kedro $RELEASE_VERSION as released (sdist)"
}

# apply_series REPO PATCH...: git am the patches; on failure abort and say where.
apply_series() {
    local repo="$1"
    shift
    [[ $# -gt 0 ]] || die "no patches to apply"
    if ! git -C "$repo" am --quiet --committer-date-is-author-date "$@"; then
        git -C "$repo" am --show-current-patch=diff | head -40 >&2 || true
        git -C "$repo" am --abort || true
        die "the series does not apply to $repo (see above); rebuild it with patches/regenerate.sh"
    fi
}

# export_series REPO DIR: git format-patch every commit above "base" into DIR.
export_series() {
    mkdir -p "$2"
    rm -f "$2"/*.patch
    git -C "$1" format-patch --quiet --no-signature --zero-commit -o "$2" base..HEAD
}
