#!/usr/bin/env bash
# build/stage.sh DIR: copies what `wails build` needs (Go sources, the built frontend/dist, the
# packaging files under build/) into DIR with a wails.json that carries this build's version
# and publisher. Packaging runs Wails there, so the shared tree never gets Wails' temporary
# .syso file or a rewritten wails.json.
#   PRODUCT_VERSION  wails.json info.productVersion (x.y.z.w on Windows, x.y.z on macOS)
#   VERSION          the git describe string (put into info.comments)
#   PUBLISHER        info.companyName (default Tsunagu)
set -euo pipefail
dest=${1:?usage: build/stage.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${PRODUCT_VERSION:?PRODUCT_VERSION is not set}"
: "${VERSION:?VERSION is not set}"
PUBLISHER=${PUBLISHER:-Tsunagu}
esc() { printf '%s' "$1" | sed -e 's/[\\/&"]/\\&/g'; }
rm -rf "$dest"
mkdir -p "$dest/frontend" "$dest/build"
cp -a go.mod go.sum main.go app internal "$dest/"
if [ -d frontend/dist ]; then cp -a frontend/dist "$dest/frontend/"; fi
cp -a build/windows build/darwin build/appicon.png "$dest/build/"
sed -E -e "s/(\"productVersion\": *)\"[^\"]*\"/\1\"$(esc "$PRODUCT_VERSION")\"/" \
       -e "s/(\"companyName\": *)\"[^\"]*\"/\1\"$(esc "$PUBLISHER")\"/" \
       -e "s/(\"comments\": *)\"[^\"]*\"/\1\"Tsunagu $(esc "$VERSION")\"/" \
       -e "s/(\"outputfilename\": *)\"[^\"]*\"/\1\"Tsunagu\"/" wails.json >"$dest/wails.json"
grep -q "\"productVersion\": \"$PRODUCT_VERSION\"" "$dest/wails.json" || {
  echo "stage.sh: could not set the version in wails.json" >&2; exit 1; }
