#!/usr/bin/env bash
# `npm test`: everything — type-check, Node tests, build, browser tests in real Chromium.
# Installs the Debian packages it needs (Chromium, coturn, …) when missing and we are root; otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need_pkgs+=(chromium)
command -v turnserver >/dev/null || need_pkgs+=(coturn)   # TURN relay: the network-cut tests freeze it
command -v sipp >/dev/null || need_pkgs+=(sip-tester)      # SIP peer scenarios for the gateway tests
command -v baresip >/dev/null || need_pkgs+=(baresip)      # a real SIP phone for the gateway tests
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need_pkgs+=(dnsmasq)  # DNS with NAPTR/SRV records for the SIP server-location tests
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)  # storage suite on PostgreSQL, cluster test
command -v ip >/dev/null || need_pkgs+=(iproute2)          # network namespaces: two networks + TURN test
command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need_pkgs+=(nftables)  # the home routers' address translation there
command -v openssl >/dev/null || need_pkgs+=(openssl)      # test CA for the HTTPS tests
command -v caddy >/dev/null || need_pkgs+=(caddy)          # the reverse-proxy example (deploy/Caddyfile)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)  # the cluster test's shared presence
command -v haproxy >/dev/null || need_pkgs+=(haproxy)      # the cluster test's load balancer (deploy/haproxy.cfg)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "npm test: installing ${need_pkgs[*]} (Debian packages)…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "npm test needs: ${need_pkgs[*]} — install with: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
fi

echo "== type-check"
npx tsc -p tsconfig.json --noEmit
echo "== build"
node scripts/build.mjs
echo "== size budget"
node scripts/size.mjs --no-build
echo "== node tests"
node --import tsx --test --test-force-exit --test-reporter=spec test/node/*.test.ts
echo "== two networks in network namespaces (root; skips, saying why, where refused)"
node --import tsx --test --test-force-exit --test-reporter=spec test/netns/*.test.ts
echo "== browser tests (Chromium)"
NODE_OPTIONS="--import tsx" npx web-test-runner
echo "== storybook (static build, every story in Chromium: console errors, axe)"
npx tsc -p .storybook/tsconfig.json
STORYBOOK_DISABLE_TELEMETRY=1 npx storybook build --disable-telemetry --quiet -o storybook-static >/dev/null
node .storybook/smoke-test.mjs
