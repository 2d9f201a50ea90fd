#!/usr/bin/env bash
# Starts Debian's Chromium for the UI tests (harness.mjs) with every
# --disable-features flag merged into one: Playwright passes its own list and
# the harness adds more, but Chromium keeps only the last such flag (checked:
# with two, the first list is ignored). The real binary is
# $TSUNAGU_CHROMIUM_REAL (the harness sets it).
set -euo pipefail
args=()
off=()
for a in "$@"; do
  case $a in
    --disable-features=*) off+=("${a#--disable-features=}") ;;
    *) args+=("$a") ;;
  esac
done
if [ ${#off[@]} -gt 0 ]; then
  joined=$(IFS=,; echo "${off[*]}")
  args+=("--disable-features=$joined")
fi
exec "${TSUNAGU_CHROMIUM_REAL:?}" "${args[@]}"
