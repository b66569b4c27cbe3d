#!/usr/bin/env bash
# The web-page tests drive Debian's Chromium at /usr/bin/chromium through Playwright (no
# browser download). Install it from Debian's packages when it is missing and we may.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); elif sudo -n true 2>/dev/null; then
  apt_get=(sudo -n apt-get)
else
  echo "ensure-chromium: /usr/bin/chromium is missing and apt-get needs root; the browser" \
       "tests will be skipped (install the Debian packages chromium and chromium-driver)." >&2
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium and chromium-driver..." >&2
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" install -y -q chromium chromium-driver >/dev/null 2>&1 \
  || { "${apt_get[@]}" update -q >/dev/null 2>&1 \
       && "${apt_get[@]}" install -y -q chromium chromium-driver >/dev/null 2>&1; } \
  || echo "ensure-chromium: installation failed; the browser tests will be skipped." >&2
exit 0
