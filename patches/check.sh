#!/usr/bin/env bash
# Check the upstream series where reviewers apply it, and run Kedro's own suites.
#
#   bash patches/check.sh [--report-dir DIR] [--workdir DIR] [--sdist FILE]
#
# For each base, Kedro main d58a0b1 (from ../shared, offline) and the kedro 1.7.0
# sdist (from PyPI unless --sdist is given):
#   1. make it a git repository and `git am` its series (patches/*.patch, resp.
#      patches/1.7.0/*.patch); a series that does not apply fails the check;
#   2. build one venv with that Kedro installed *stock* (from the base commit's own
#      tree) plus Kedro's test dependencies;
#   3. run Kedro's tests/pipeline, tests/runner, tests/framework, tests/ipython and
#      tests/io twice with .ci/kedro_suites.py: stock, and patched (the same venv with
#      PYTHONPATH=<the patched kedro/>); the same test ids on both sides, the series'
#      new tests included. Any test that passes stock and fails patched fails the check.
# For 1.7.0, whose sdist ships no test suite, the tests are main d58a0b1's (its
# pipeline, runner and session modules are the release's) with the sdist's own
# tests/ files and the series' new tests laid over them.
#
# Needs python3, git and network access to PyPI (the sdist, uv and the test
# dependencies). Reports: --report-dir or $KEDRO_CHECK_REPORT_DIR (default: under
# the work directory, which is kept only when the check fails or with --workdir).
set -euo pipefail

# shellcheck source=patches/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

report_dir="${KEDRO_CHECK_REPORT_DIR:-}"
workdir="${KEDRO_CHECK_WORKDIR:-}"
sdist=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --report-dir) report_dir="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --sdist) sdist="$2"; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

started=$(date +%s)
keep_workdir=1
if [[ -z "$workdir" ]]; then
    workdir="$(mktemp -d /tmp/kedro-native-check.XXXXXX)"
    keep_workdir=0
fi
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"
report_dir="${report_dir:-$workdir/reports}"
mkdir -p "$report_dir"
python="${PYTHON:-python3}"

# uv ships its own TLS roots; read the system's, as pip does, so that a machine
# whose registry access needs a local CA bundle works the same for both.
export UV_NATIVE_TLS=1
uv="$(command -v uv || true)"
if [[ -z "$uv" ]]; then
    "$python" -m venv "$workdir/tools"
    "$workdir/tools/bin/python" -m pip install --quiet uv
    uv="$workdir/tools/bin/uv"
fi
# make_venv DIR KEDRO_SOURCE SUITE KEDRO_VERSION: a venv with Kedro installed stock
# from KEDRO_SOURCE and the test dependencies SUITE's pyproject.toml declares,
# resolved as Kedro's CI resolved them then (.ci/kedro_suites.py resolve-as-of).
make_venv() {
    local as_of
    as_of="$("$python" "$PROJECT_ROOT/.ci/kedro_suites.py" resolve-as-of "$4")"
    mapfile -t test_deps < <("$python" "$PROJECT_ROOT/.ci/kedro_suites.py" requirements "$3")
    "$uv" venv --quiet --python "$python" "$1"
    "$uv" pip install --quiet --exclude-newer "$as_of" --python "$1/bin/python" \
        "$2" "${test_deps[@]}"
}

# patched_kedro_dir REPO DIR: only the patched kedro/ of REPO, in DIR, so that
# PYTHONPATH=DIR shadows the installed Kedro and nothing else.
patched_kedro_dir() {
    mkdir -p "$2"
    cp -R "$1/kedro" "$2/kedro"
}

# check_shadowing VENV DIR: the patched Kedro must be the one imported.
check_shadowing() {
    local stock patched
    stock="$("$1/bin/python" -c 'import kedro; print(kedro.__file__)')"
    patched="$(PYTHONPATH="$2" "$1/bin/python" -c 'import kedro; print(kedro.__file__)')"
    echo "  stock kedro:   $stock"
    echo "  patched kedro: $patched"
    [[ "$patched" == "$2/kedro/__init__.py" ]] \
        || die "PYTHONPATH=$2 does not make the patched Kedro win over the installed one"
    PYTHONPATH="$2" "$1/bin/python" -c \
        'from kedro.pipeline import Pipeline; assert isinstance(Pipeline.__dict__["names"], property)' \
        || die "the patched Kedro in $2 has no Pipeline.names"
}

# run_suites LABEL VENV TESTS PATCHED_DIR: Kedro's suites stock vs patched.
run_suites() {
    "$2/bin/python" "$PROJECT_ROOT/.ci/kedro_suites.py" --label "$1" --tests "$3" \
        --stock-python "$2/bin/python" --patched-python "$2/bin/python" \
        --patched-env "PYTHONPATH=$4" --report "$report_dir/$1.json"
}

status=0

echo "== Kedro main $MAIN_COMMIT: git am patches/*.patch"
make_main_repo "$workdir/main"
apply_series "$workdir/main" "$PATCHES_DIR"/*.patch
git -C "$workdir/main" log --oneline base..HEAD
git -C "$workdir/main" diff --stat base
cp -R "$MAIN_SRC" "$workdir/main-stock"
chmod -R u+w "$workdir/main-stock"
patched_kedro_dir "$workdir/main" "$workdir/main-patched"
# tests/framework/cli creates projects from features/test_starter (untracked here).
cp -R "$MAIN_TESTS/features" "$workdir/main/features"
chmod -R u+w "$workdir/main/features"
make_venv "$workdir/venv-main" "$workdir/main-stock" "$MAIN_TESTS" "main-$MAIN_COMMIT"
check_shadowing "$workdir/venv-main" "$workdir/main-patched"
run_suites "main-$MAIN_COMMIT" "$workdir/venv-main" "$workdir/main" "$workdir/main-patched" \
    || status=1

echo "== kedro $RELEASE_VERSION sdist: git am patches/$RELEASE_VERSION/*.patch"
if [[ -z "$sdist" ]]; then
    sdist="$(download_sdist "$workdir")"
fi
make_release_repo "$workdir/release" "$sdist"
apply_series "$workdir/release" "$RELEASE_PATCHES_DIR"/*.patch
git -C "$workdir/release" log --oneline base..HEAD
git -C "$workdir/release" diff --stat base
patched_kedro_dir "$workdir/release" "$workdir/release-patched"
# The sdist ships no suite: main's tests, with the sdist's own test files and the
# series' new tests (both from the patched sdist repository) laid over them.
mkdir -p "$workdir/release-tests"
cp -R "$MAIN_TESTS/tests" "$workdir/release-tests/tests"
chmod -R u+w "$workdir/release-tests"
cp -R "$workdir/release/tests/." "$workdir/release-tests/tests/"
cp "$workdir/release/pyproject.toml" "$workdir/release-tests/pyproject.toml"
# tests/framework/cli creates projects from main's features/test_starter.
cp -R "$MAIN_TESTS/features" "$workdir/release-tests/features"
chmod -R u+w "$workdir/release-tests/features"
make_venv "$workdir/venv-release" "$sdist" "$workdir/release-tests" "$RELEASE_VERSION"
check_shadowing "$workdir/venv-release" "$workdir/release-patched"
run_suites "$RELEASE_VERSION" "$workdir/venv-release" "$workdir/release-tests" \
    "$workdir/release-patched" || status=1

echo "== patches/check.sh: reports in $report_dir; $(( $(date +%s) - started )) s"
if [[ $status -ne 0 ]]; then
    echo "patches/check.sh: FAILED (newly failing Kedro tests; work directory kept: $workdir)" >&2
    exit 1
fi
if [[ $keep_workdir -eq 0 ]]; then
    # Keep only the reports (when they are under the work directory).
    find "$workdir" -mindepth 1 -maxdepth 1 ! -path "$report_dir" -exec rm -rf {} +
    rmdir "$workdir" 2>/dev/null || true
fi
