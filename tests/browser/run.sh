#!/usr/bin/env bash
# run.sh: the dashboard in headless Chromium and Firefox ESR (Debian's) against
# the real binary, driven by puppeteer-core (dashboard.test.js says what is
# checked), after RealtimeManager's own rules in node (manager.test.js).
# ctest runs it as browser.dashboard; by hand:
#
#   HUGINN_BIN=build/huginn-profiler tests/browser/run.sh [chromium|firefox ...]
#   HUGINN_SCREENSHOTS=1 ... also writes docs/screenshots/dashboard{,-firefox}.png
#
# puppeteer-core is installed with `npm ci` from the committed lock file into
# HUGINN_BROWSER_WORK (the build tree; default a directory in $TMPDIR), never
# into the source tree, and only again when the lock file changes. It
# downloads no browser. Exit: 0 pass, 1 fail, 77 skip (ctest's SKIP_RETURN_CODE).

set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

fail() { echo "browser: FAIL: $*" >&2; exit 1; }
skip() { echo "browser: SKIP: $*" >&2; exit 77; }

# Sanitizer builds: the binary is several times slower and the browsers add
# nothing the release run does not check; issue 5 runs this suite in the
# release build only.
[[ -z ${HUGINN_SANITIZE:-} ]] || skip "sanitizer build (HUGINN_SANITIZE=$HUGINN_SANITIZE)"
[[ -n ${HUGINN_BIN:-} && -x $HUGINN_BIN ]] || fail "HUGINN_BIN is not an executable: ${HUGINN_BIN:-unset}"
for tool in node npm curl; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (scripts/install-deps.sh --test)"
done

browsers=("$@")
((${#browsers[@]})) || browsers=(chromium firefox)
for b in "${browsers[@]}"; do
  case $b in
    chromium) [[ -x /usr/bin/chromium ]] || skip "chromium not installed (scripts/install-deps.sh --test)" ;;
    firefox) [[ -x /usr/bin/firefox-esr ]] || skip "firefox-esr not installed (scripts/install-deps.sh --test)" ;;
    *) fail "unknown browser '$b' (chromium, firefox)" ;;
  esac
done

work=${HUGINN_BROWSER_WORK:-${TMPDIR:-/tmp}/huginn-browser-$(id -u)}
mkdir -p "$work/npm"
# The test files are run from the build tree next to their node_modules, so
# that require() finds puppeteer-core without touching the source tree.
if ! cmp -s "$here/package-lock.json" "$work/npm/package-lock.json" || [[ ! -d $work/npm/node_modules/puppeteer-core ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/npm/"
  echo "browser: npm ci (puppeteer-core) into $work/npm" >&2
  PUPPETEER_SKIP_DOWNLOAD=1 timeout 120 npm ci --prefix "$work/npm" --no-audit --no-fund --loglevel=error \
    --cache "$work/npm-cache" >&2 || fail "npm ci failed"
fi
cp "$here/harness.js" "$here/dashboard.test.js" "$here/manager.test.js" "$work/npm/"

# Chromium and Firefox write crash reports and caches under $HOME.
export HOME="$work/home"
mkdir -p "$HOME"
export HUGINN_BROWSER_WORK="$work" HUGINN_SOURCE_DIR="$source_dir"

status=0
# The manager's dedup, reset and backoff rules, in node with a scripted fetch.
timeout -k 5 30 node "$work/npm/manager.test.js" "$source_dir/web/realtime.js" || status=1
for b in "${browsers[@]}"; do
  start=$(date +%s%3N)
  # 80 s: the file's own watchdog is 75 s; this catches a wedged node.
  timeout -k 5 80 node "$work/npm/dashboard.test.js" "$b" >"$work/$b.json" || status=1
  echo "browser: $b took $(( $(date +%s%3N) - start )) ms" >&2
done
exit "$status"
