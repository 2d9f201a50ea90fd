#!/usr/bin/env bash
# build/darwin/package.sh (`make package-macos`, on a Mac): a universal (Intel + Apple silicon)
# Tsunagu.app and a .dmg, signed and notarized when the environment says how:
#
#   MACOS_SIGN_IDENTITY  a "Developer ID Application: ..." identity in the login keychain
#                        (security find-identity -v -p codesigning); unset: unsigned (test builds)
#   NOTARY_PROFILE       a notarytool keychain profile, made once with
#                        xcrun notarytool store-credentials <profile> --apple-id ... --team-id ...
#                        unset: not notarized (Gatekeeper then blocks the app on other Macs)
#   VERSION, NUMVER, LDFLAGS, PUBLISHER  as for package-windows (the Makefile passes them)
#
#   build/darwin/package.sh --dry-run   prints every step without running anything (works on Linux)
#
# Output: build/bin/Tsunagu.app and build/bin/Tsunagu-<version>-macos-universal.dmg
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

dry=""
case "${1:-}" in
  --dry-run) dry=1 ;;
  "") ;;
  *) echo "usage: build/darwin/package.sh [--dry-run]" >&2; exit 2 ;;
esac

WAILS_VERSION=v2.15.0
wails="$root/build/tools/wails"
VERSION=${VERSION:-$(build/version.sh)}
NUMVER=${NUMVER:-$(build/version.sh numeric)}
PUBLISHER=${PUBLISHER:-Tsunagu}
LDFLAGS=${LDFLAGS:-"-X tsunagu/internal/version.Version=$VERSION"}
# Apple's version keys take at most three numbers: x.y.z (the describe string is in the
# Get Info string).
SHORTVER=${NUMVER%.*}
stage="$root/build/_stage/darwin"
app="$root/build/bin/Tsunagu.app"
dmg="$root/build/bin/Tsunagu-$VERSION-macos-universal.dmg"

# run prints a step and, unless dry, runs it; run_in DIR runs it in DIR.
run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  [ -n "$dry" ] || "$@"
}
run_in() {
  local dir=$1; shift
  printf '+ (cd %q &&' "$dir"; printf ' %q' "$@"; printf ')\n'
  [ -n "$dry" ] || (cd "$dir" && "$@")
}

if [ -z "$dry" ]; then
  [ "$(uname -s)" = Darwin ] || { echo "package-macos runs on a Mac (try --dry-run)" >&2; exit 1; }
  [ -f frontend/dist/index.html ] || { echo "package-macos: frontend/dist is not built (make frontend)" >&2; exit 1; }
  for tool in go xcrun codesign hdiutil; do
    command -v "$tool" >/dev/null || { echo "package-macos: $tool is missing (install Xcode command line tools)" >&2; exit 1; }
  done
fi

echo "# Tsunagu $VERSION ($SHORTVER) for macOS, universal"
if [ -z "$dry" ] && { [ ! -x "$wails" ] || ! "$wails" version 2>/dev/null | grep -qx "$WAILS_VERSION"; }; then
  run env GOBIN="$root/build/tools" go install "github.com/wailsapp/wails/v2/cmd/wails@$WAILS_VERSION"
fi

echo "# 1. stage the sources with the version in wails.json"
run env PRODUCT_VERSION="$SHORTVER" VERSION="$VERSION" PUBLISHER="$PUBLISHER" "$root/build/stage.sh" "$stage"

echo "# 2. build the universal app (Info.plist and icon from build/darwin, build/appicon.png)"
run_in "$stage" "$wails" build -platform darwin/universal -s -skipbindings -skipembedcreate -m -nosyncgomod -trimpath -nocolour -ldflags "$LDFLAGS"
run rm -rf "$app"
run mkdir -p "$root/build/bin"
run ditto "$stage/build/bin/Tsunagu.app" "$app"
echo "# 3. tsunagu-cli inside the bundle (for launchd jobs: Tsunagu.app/Contents/MacOS/tsunagu-cli)"
for arch in amd64 arm64; do
  run_in "$stage" env GOOS=darwin GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$stage/tsunagu-cli-$arch" ./app/cli
done
run lipo -create -output "$app/Contents/MacOS/tsunagu-cli" "$stage/tsunagu-cli-amd64" "$stage/tsunagu-cli-arm64"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  echo "# 4. sign with the hardened runtime and a secure timestamp (the CLI first, then the bundle)"
  run codesign --force --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$app/Contents/MacOS/tsunagu-cli"
  run codesign --force --options runtime --timestamp --entitlements "$root/build/darwin/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$app"
  run codesign --verify --strict --verbose=2 "$app"
else
  echo "# 4. MACOS_SIGN_IDENTITY is not set: the app stays unsigned (for testing only)"
fi

echo "# 5. the disk image"
run rm -f "$dmg"
run hdiutil create -volname "Tsunagu" -srcfolder "$app" -fs HFS+ -format UDZO -ov "$dmg"
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  run codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi

if [ -n "${NOTARY_PROFILE:-}" ]; then
  [ -n "${MACOS_SIGN_IDENTITY:-}" ] || { echo "package-macos: NOTARY_PROFILE needs MACOS_SIGN_IDENTITY (only signed apps are notarized)" >&2; exit 1; }
  echo "# 6. notarize and staple (Gatekeeper then opens it offline too)"
  run xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  run xcrun stapler staple "$dmg"
  run xcrun stapler validate "$dmg"
  run spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
else
  echo "# 6. NOTARY_PROFILE is not set: not notarized"
fi
echo "# built $dmg"
