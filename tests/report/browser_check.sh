#!/bin/sh
# tests/report/browser_check.sh - the training report rendered by a real browser (headless Chromium).
#
#   browser_check.sh GENERATOR PNG_CHECK OUTPUT_DIR
#
# GENERATOR (report_synthetic) writes OUTPUT_DIR/report.html and a probe copy with a small script;
# Chromium takes a screenshot of the report (checked by PNG_CHECK: size, not blank) and dumps the
# DOM of both pages: the report must contain its images and plots, and the probe must say that every
# image decoded and every plot was laid out. The screenshot stays in OUTPUT_DIR for a human to see.
# Exits 77 (CTest SKIP_RETURN_CODE) when Chromium is not installed; LOGREG_CHROMIUM overrides the path.
set -u

generator=$1
png_check=$2
out=$3
chromium=${LOGREG_CHROMIUM:-/usr/bin/chromium}
width=1280
height=2400

if [ ! -x "$chromium" ]; then
  echo "skipped: chromium not installed (apt-get install chromium)"
  exit 77
fi

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

mkdir -p "$out" || fail "cannot create $out"
out=$(cd "$out" && pwd)
rm -f "$out/report.html" "$out/probe.html" "$out/screenshot.png" "$out/dom.html" "$out/probe-dom.html" \
      "$out"/chromium-*.log

# A fresh profile per run, removed afterwards: no state from a user's browser, none left behind.
profiles=$(mktemp -d "${TMPDIR:-/tmp}/logreg-chromium.XXXXXX") || fail "mktemp failed"
trap 'rm -rf "$profiles"' EXIT
trap 'exit 1' INT TERM

expected=$("$generator" "$out/report.html" "$out/probe.html") || fail "$generator failed"
images=$(echo "$expected" | sed -n 's/.*images=\([0-9]*\).*/\1/p')
svgs=$(echo "$expected" | sed -n 's/.*svgs=\([0-9]*\).*/\1/p')
[ -n "$images" ] && [ -n "$svgs" ] || fail "unexpected generator output: $expected"

# file:// URL of a local path (percent-encode the characters that would break it).
file_url() {
  printf 'file://%s' "$(printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g')"
}

# run_chromium NAME ARGS...: headless, isolated, no network chatter, killed after 60 s.
run_chromium() {
  name=$1
  shift
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --disable-extensions --force-device-scale-factor=1 --hide-scrollbars \
    --user-data-dir="$profiles/$name" --window-size=$width,$height "$@" 2>"$out/chromium-$name.log"
}

show_log() {
  echo "--- chromium log ($1) ---" >&2
  tail -n 30 "$out/chromium-$1.log" >&2
}

# 1. Screenshot of the report.
if ! run_chromium screenshot --screenshot="$out/screenshot.png" "$(file_url "$out/report.html")" >/dev/null; then
  show_log screenshot
  fail "chromium --screenshot failed or timed out"
fi
[ -s "$out/screenshot.png" ] || { show_log screenshot; fail "no screenshot written"; }
"$png_check" "$out/screenshot.png" $width $height || fail "the screenshot is not a ${width}x${height} page with content"

# 2. The DOM of the report as the browser parsed it.
if ! run_chromium dom --dump-dom "$(file_url "$out/report.html")" >"$out/dom.html"; then
  show_log dom
  fail "chromium --dump-dom failed or timed out"
fi
n_img=$(grep -o '<img ' "$out/dom.html" | wc -l)
n_svg=$(grep -o '<svg ' "$out/dom.html" | wc -l)
n_data=$(grep -o 'src="data:image/png;base64,' "$out/dom.html" | wc -l)
echo "dom: $n_img <img> ($n_data PNG data URIs), $n_svg <svg>"
[ "$n_img" -eq "$images" ] || fail "expected $images <img> elements in the DOM, found $n_img"
[ "$n_data" -eq "$images" ] || fail "expected $images PNG data URIs in the DOM, found $n_data"
[ "$n_svg" -eq "$svgs" ] || fail "expected $svgs <svg> plots in the DOM, found $n_svg"

# 3. The probe page: did every image decode, was every plot laid out, does the page fit the width?
if ! run_chromium probe --virtual-time-budget=5000 --dump-dom "$(file_url "$out/probe.html")" \
    >"$out/probe-dom.html"; then
  show_log probe
  fail "chromium --dump-dom of the probe page failed or timed out"
fi
body=$(grep -o '<body[^>]*>' "$out/probe-dom.html" | head -n 1)
echo "probe: $body"
attr() { echo "$body" | sed -n "s/.*$1=\"\([^\"]*\)\".*/\1/p"; }
[ "$(attr data-probe)" = done ] || fail "the probe script did not run (no data-probe=\"done\" on <body>)"
[ "$(attr data-images-loaded)" = "$images" ] || fail "only $(attr data-images-loaded) of $images images decoded"
[ "$(attr data-images-broken)" = 0 ] || fail "$(attr data-images-broken) images did not decode"
[ "$(attr data-svgs-laid-out)" = "$svgs" ] || fail "only $(attr data-svgs-laid-out) of $svgs plots were laid out"
[ "$(attr data-horizontal-overflow)" = false ] || fail "the page is wider than a ${width}px window"

echo "report_renders_in_chromium: ok (screenshot: $out/screenshot.png)"
