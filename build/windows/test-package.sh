#!/usr/bin/env bash
# build/windows/test-package.sh (`make test-package`): builds the Windows installer signed with a
# throwaway self-signed code-signing certificate, then checks
#   - the Authenticode signatures of the installer, Tsunagu.exe and tsunagu-cli.exe verify
#     (osslsigncode verify, trusting only the throwaway certificate: a self-signed certificate
#     does not chain to a public root), and a tampered copy does not;
#   - the installer and the app are PE files whose version resource is this build's x.y.z.w and
#     whose product name is つなぐ Tsunagu (build/windows/pecheck), and a wrong version fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for tool in openssl osslsigncode makensis; do
  command -v "$tool" >/dev/null || { echo "test-package: $tool is missing (.ci/install-deps)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass="test-$(openssl rand -hex 8)"
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 2 \
  -subj "/CN=Tsunagu throwaway test signing/O=Tsunagu test" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$tmp/key.pem" -in "$tmp/cert.pem" -out "$tmp/test.pfx" -passout "pass:$pass"

VERSION=${VERSION:-$(build/version.sh)}
NUMVER=${NUMVER:-$(build/version.sh numeric)}
export VERSION NUMVER
SIGN_PFX="$tmp/test.pfx" SIGN_PASS="$pass" build/windows/package.sh

installer="build/bin/Tsunagu-$VERSION-windows-amd64-installer.exe"
fail=0
for f in "$installer" build/bin/Tsunagu.exe build/bin/tsunagu-cli.exe; do
  if osslsigncode verify -CAfile "$tmp/cert.pem" -in "$f" >"$tmp/verify.log" 2>&1 && grep -q "Signature verification: ok" "$tmp/verify.log"; then
    echo "test-package: signature ok: $f"
  else
    cat "$tmp/verify.log" >&2; echo "test-package: FAIL: signature of $f does not verify" >&2; fail=1
  fi
done

# The check must be able to fail: a copy with one byte changed is refused.
cp "$installer" "$tmp/tampered.exe"
size=$(stat -c %s "$tmp/tampered.exe")
printf '\xff' | dd of="$tmp/tampered.exe" bs=1 seek=$((size / 2)) conv=notrunc status=none
if osslsigncode verify -CAfile "$tmp/cert.pem" -in "$tmp/tampered.exe" >"$tmp/verify.log" 2>&1; then
  echo "test-package: FAIL: a tampered installer still verifies" >&2; fail=1
else
  echo "test-package: a tampered installer is refused"
fi

go run ./build/windows/pecheck -version "$NUMVER" -product "つなぐ Tsunagu" "$installer" build/bin/Tsunagu.exe || fail=1
wrong=$(echo "$NUMVER" | awk -F. '{ printf "%d.%d.%d.%d", $1, $2, $3, $4 + 1 }')
if go run ./build/windows/pecheck -version "$wrong" "$installer" 2>/dev/null; then
  echo "test-package: FAIL: pecheck accepted the wrong version $wrong" >&2; fail=1
fi
[ "$fail" -eq 0 ] && echo "test-package: ok ($installer)"
exit "$fail"
