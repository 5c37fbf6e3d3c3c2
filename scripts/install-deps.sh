#!/usr/bin/env bash
# Installs the Debian packages fedrp needs to build, run and test. Safe to re-run: it only calls
# apt-get when something is missing. Usage: scripts/install-deps.sh [run|test]
set -euo pipefail
profile=${1:-test}

# build + run: bindgen (libclang) for the libxmlsec1 bindings, libxml2/libxmlsec1/OpenSSL headers.
pkgs=(libclang-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl libssl-dev pkg-config ca-certificates)
if [[ $profile == test ]]; then
  # xmlsec1: the independent verifier/signer the tests compare against; redis-server: shared state.
  pkgs+=(xmlsec1 redis-server)
  # End-to-end tests (tests/e2e.rs): SimpleSAMLphp under php-fpm + nginx (php-xml: DOM, which
  # the Debian package does not pull in), headless Chromium (+ chromedriver for WebDriver use),
  # Node for the auth0 wsfed/samlp IdP and the playwright-core browser driver.
  pkgs+=(simplesamlphp php-fpm php-xml php-mbstring nginx-light chromium chromium-driver)
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=
  if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [[ $profile == test ]] && ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "installing cargo-nextest" >&2
  cargo install --locked cargo-nextest >&2
fi

# The end-to-end tests' Node packages, exactly as locked (tests/e2e/package-lock.json); skipped
# when node_modules already matches the lock. playwright-core drives the system Chromium and
# never downloads a browser.
if [[ $profile == test ]]; then
  e2e=$(cd "$(dirname "$0")/../tests/e2e" && pwd)
  if ! cmp -s "$e2e/package-lock.json" "$e2e/node_modules/.package-lock.json.installed" 2>/dev/null; then
    echo "installing the end-to-end tests' npm packages (npm ci in tests/e2e)" >&2
    (cd "$e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
    cp "$e2e/package-lock.json" "$e2e/node_modules/.package-lock.json.installed"
  fi
fi
