#!/usr/bin/env bash
# Render an actionstore HTML report in headless Chromium, save a screenshot, and fail on console errors.
#   scripts/screenshot_report.sh demo-out/store/artifacts/report-<set>.html [out.png]
set -euo pipefail
page=$(realpath "$1"); shot=${2:-${1%.html}.png}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome) || {
  echo "error: no Chromium found; install it (apt-get install chromium) and run again" >&2; exit 1; }
log=$("$browser" --headless=new --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --window-size=1200,2400 --screenshot="$shot" "file://$page" 2>&1 || true)
if grep -E "CONSOLE|ERR_FILE" <<<"$log"; then echo "error: the page logged errors (above)" >&2; exit 1; fi
echo "screenshot: $shot"
