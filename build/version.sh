#!/usr/bin/env bash
# Prints the build's version in the two forms the packaging needs:
#   build/version.sh          git describe (v1.2.3, v1.2.3-4-gabcdef0-dirty, or a bare hash)
#   build/version.sh numeric  x.y.z.w for the Windows version resource and Info.plist:
#                             a tag vX.Y.Z N commits back gives X.Y.Z.N; no tag gives
#                             0.0.0.<number of commits> (N and the count are capped at 65535).
# internal/version.Parse reads the same describe strings the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
describe=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
if [ "${1:-}" != numeric ]; then
  echo "$describe"
  exit 0
fi
re='^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-([0-9]+)-g[0-9a-f]+)?(-dirty)?$'
if [[ $describe =~ $re ]]; then
  n=${BASH_REMATCH[5]:-0}
  echo "$((10#${BASH_REMATCH[1]})).$((10#${BASH_REMATCH[2]})).$((10#${BASH_REMATCH[3]})).$(( n > 65535 ? 65535 : n ))"
else
  count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  echo "0.0.0.$(( count > 65535 ? 65535 : count ))"
fi
