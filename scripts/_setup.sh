# Shared set-up of scripts/test and scripts/demo: source it, do not run it.
#
# Creates .venv with Python 3.11 when it is missing and installs journeylens in editable
# mode with the extras below. The install is skipped when nothing it depends on changed
# since the last one (a stamp file records the hash of pyproject.toml and the extras), so
# re-running the scripts is quick; delete .venv to start over.

# Extras installed for the tests and the demo. Add an extra here when the suite needs it
# (e.g. "dev,web,spark"); this is the only place to change.
JOURNEYLENS_EXTRAS="${JOURNEYLENS_EXTRAS:-dev,web,postgres}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

_find_python() {
    # Prefer an explicit $PYTHON, then python3.11, then any python3 that is >= 3.11.
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: journeylens needs Python 3.11 or newer (install python3.11 or set PYTHON=...)" >&2
    return 1
}

setup_venv() {
    if [ ! -x "$PY" ]; then
        local python
        python="$(_find_python)" || return 1
        echo "==> creating $VENV with $python" >&2
        "$python" -m venv "$VENV" || return 1
    fi
    local stamp="$VENV/.journeylens-install"
    local want
    want="$("$PY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$ROOT/pyproject.toml") extras=$JOURNEYLENS_EXTRAS"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "==> installing journeylens[$JOURNEYLENS_EXTRAS] into $VENV (first run takes a few minutes)" >&2
    "$PY" -m pip install --quiet --upgrade pip || return 1
    "$PY" -m pip install --quiet -e "$ROOT[$JOURNEYLENS_EXTRAS]" || return 1
    echo "$want" >"$stamp"
}

# Headless Chromium for the browser test of the rendered map and report
# (tests/render/test_browser.py, which fails loudly without it). The system package is
# used, never `playwright install`. Installed only when running as root (CI containers);
# elsewhere it says what to run. Called by scripts/test only: the demo needs no browser,
# and a failed install is reported, not fatal (the browser test then says what is wrong).
setup_browser() {
    [ -x /usr/bin/chromium ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing chromium for the browser tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 ||
            echo "warning: installing chromium failed; the browser test will fail" >&2
    else
        echo "warning: /usr/bin/chromium is missing; the browser test will fail (sudo apt-get install -y chromium)" >&2
    fi
    return 0
}
