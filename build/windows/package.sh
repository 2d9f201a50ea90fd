#!/usr/bin/env bash
# build/windows/package.sh (`make package-windows`): the Windows app and its per-user NSIS
# installer, cross-built on Linux (Wails and ncruces/go-sqlite3 need no cgo on Windows).
#
#   build/bin/Tsunagu-<version>-windows-amd64-installer.exe
#
# Steps: stage a copy of the sources with the version in wails.json (so the shared tree never
# gets Wails' temporary .syso file or a rewritten wails.json) → `wails build` (pinned CLI) makes
# Tsunagu.exe with icon, manifest and version resource → tsunagu-cli.exe → sign both when
# SIGN_PFX/SIGN_PASS are set (build/windows/sign.sh) → makensis with the Wails-derived
# templates in build/windows/installer (the uninstaller is signed too) → sign the installer.
#
# Environment: VERSION, NUMVER (default: build/version.sh), LDFLAGS (the Makefile's
# version stamps), PUBLISHER (default Tsunagu), SIGN_PFX + SIGN_PASS (+ SIGN_TIMESTAMP_URL).
# frontend/dist must be built (`make frontend`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

WAILS_VERSION=v2.15.0
tools="$root/build/tools"
wails="$tools/wails"
VERSION=${VERSION:-$(build/version.sh)}
NUMVER=${NUMVER:-$(build/version.sh numeric)}
PUBLISHER=${PUBLISHER:-Tsunagu}
LDFLAGS=${LDFLAGS:-"-X tsunagu/internal/version.Version=$VERSION"}
stage="$root/build/_stage/windows"
out="$root/build/bin/Tsunagu-$VERSION-windows-amd64-installer.exe"
export GOFLAGS=-buildvcs=false

for tool in makensis go; do
  command -v "$tool" >/dev/null || { echo "package-windows: $tool is missing (.ci/install-deps installs nsis)" >&2; exit 1; }
done
[ -f frontend/dist/index.html ] || { echo "package-windows: frontend/dist is not built (make frontend)" >&2; exit 1; }
if [[ ! $NUMVER =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "package-windows: NUMVER=$NUMVER is not x.y.z.w" >&2; exit 1
fi
signing=""
if [ -n "${SIGN_PFX:-}" ] || [ -n "${SIGN_PASS:-}" ]; then
  : "${SIGN_PFX:?SIGN_PASS is set but SIGN_PFX is not}"
  : "${SIGN_PASS:?SIGN_PFX is set but SIGN_PASS is not}"
  command -v osslsigncode >/dev/null || { echo "package-windows: osslsigncode is missing" >&2; exit 1; }
  signing=1
fi

# The pinned Wails CLI, project-local (never @latest).
if [ ! -x "$wails" ] || ! "$wails" version 2>/dev/null | grep -qx "$WAILS_VERSION"; then
  echo "installing the Wails CLI $WAILS_VERSION into build/tools"
  GOBIN="$tools" go install "github.com/wailsapp/wails/v2/cmd/wails@$WAILS_VERSION"
fi

echo "staging Tsunagu $VERSION ($NUMVER) in build/_stage/windows"
PRODUCT_VERSION="$NUMVER" VERSION="$VERSION" PUBLISHER="$PUBLISHER" build/stage.sh "$stage"

echo "building Tsunagu.exe (wails build -platform windows/amd64)"
# -s: frontend/dist is already built; -skipbindings: the bindings are not regenerated; -m and
# -nosyncgomod: go.mod is left alone; the staged sources are thrown away afterwards.
(cd "$stage" && "$wails" build -platform windows/amd64 -s -skipbindings -skipembedcreate -m -nosyncgomod \
    -trimpath -ldflags "$LDFLAGS" -nocolour -v 1)
app="$stage/build/bin/Tsunagu.exe"
[ -f "$app" ] || { echo "package-windows: wails did not produce $app" >&2; ls -la "$stage/build/bin" >&2 || true; exit 1; }

echo "building tsunagu-cli.exe"
cli="$stage/build/bin/tsunagu-cli.exe"
(cd "$stage" && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS -s -w" -o "$cli" ./app/cli)

if [ -n "$signing" ]; then
  build/windows/sign.sh "$app" "$cli"
fi

# The WebView2 bootstrapper Wails ships (it is what `wails build -nsis` puts there).
wails_dir=$(cd "$stage" && go list -m -f '{{.Dir}}' github.com/wailsapp/wails/v2)
mkdir -p "$stage/build/windows/installer/tmp"
cp "$wails_dir/internal/webview2runtime/MicrosoftEdgeWebview2Setup.exe" "$stage/build/windows/installer/tmp/"
chmod u+w "$stage/build/windows/installer/tmp/MicrosoftEdgeWebview2Setup.exe"

echo "building the installer (makensis)"
mkdir -p "$(dirname "$out")"
nsis_args=(-V2 -INPUTCHARSET UTF8
  "-DARG_WAILS_AMD64_BINARY=$app" "-DARG_TSUNAGU_CLI=$cli"
  "-DINFO_PRODUCTVERSION=$NUMVER" "-DTSUNAGU_VERSION=$VERSION"
  "-DINFO_COMPANYNAME=$PUBLISHER" "-DOUTFILE=$out")
[ -n "$signing" ] && nsis_args+=("-DSIGN_SCRIPT=$root/build/windows/sign.sh")
(cd "$stage/build/windows/installer" && makensis "${nsis_args[@]}" project.nsi)

if [ -n "$signing" ]; then
  build/windows/sign.sh "$out"
fi
cp "$app" "$cli" "$root/build/bin/"
[ -n "${KEEP_STAGE:-}" ] || rm -rf "$stage" # KEEP_STAGE=1 keeps it for debugging
echo "built $out"
