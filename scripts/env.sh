# Sourced by the Makefile targets: the environment Reflex needs on this machine.
# Bun comes from the npm registry (Reflex would otherwise try to download it from a host we cannot reach).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$(uname -m)" in
  aarch64|arm64) BUN_PKG=bun-linux-aarch64 ;;
  *) BUN_PKG=bun-linux-x64 ;;
esac
export REFLEX_BUN_PATH="$ROOT/.tools/node_modules/@oven/$BUN_PKG/bin/bun"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
if [ -z "${NPM_CONFIG_REGISTRY:-}" ] && command -v npm >/dev/null 2>&1; then
  NPM_CONFIG_REGISTRY="$(npm config get registry 2>/dev/null)"
  export NPM_CONFIG_REGISTRY
fi
