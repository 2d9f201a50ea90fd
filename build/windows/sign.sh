#!/usr/bin/env bash
# sign.sh FILE...: Authenticode-signs Windows executables in place with osslsigncode.
#   SIGN_PFX   the code-signing certificate and key (PKCS#12 .pfx/.p12)
#   SIGN_PASS  its password (handed to osslsigncode in a private temporary file, never on
#              the command line where other users could read it)
#   SIGN_TIMESTAMP_URL  optional RFC 3161 time-stamping server (e.g. your CA's): with it the
#              signature stays valid after the certificate expires. Needs network access.
# Also called by makensis (!uninstfinalize) to sign the uninstaller inside the installer.
set -euo pipefail
: "${SIGN_PFX:?SIGN_PFX is not set}"
: "${SIGN_PASS:?SIGN_PASS is not set}"
[ -f "$SIGN_PFX" ] || { echo "sign.sh: $SIGN_PFX does not exist" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
printf '%s' "$SIGN_PASS" >"$tmp/pass"
for f in "$@"; do
  args=(sign -pkcs12 "$SIGN_PFX" -readpass "$tmp/pass" -h sha256 -n "Tsunagu" -i "https://github.com/tsunagu" -in "$f" -out "$tmp/signed")
  [ -n "${SIGN_TIMESTAMP_URL:-}" ] && args+=(-ts "$SIGN_TIMESTAMP_URL")
  osslsigncode "${args[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "sign.sh: signing $f failed" >&2; exit 1; }
  cat "$tmp/signed" >"$f" # in place, keeping the file's mode
  rm -f "$tmp/signed"
  echo "signed $(basename "$f")"
done
