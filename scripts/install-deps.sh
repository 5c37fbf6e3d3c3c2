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
