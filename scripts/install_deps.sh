#!/usr/bin/env bash
# Installs the Debian packages pact's scripts need, but only those not installed yet
# (apt-get update runs once, and only if something is missing; sudo only when not root).
#   bash scripts/install_deps.sh          # build + examples + benchmarks + charts
#   bash scripts/install_deps.sh --test   # ... plus cross compilers and qemu-user for tests
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config libxsimd-dev googletest libgtest-dev
          libbenchmark-dev libopenblas-dev libblis-dev libdnnl-dev libeigen3-dev
          python3-matplotlib)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(qemu-user g++-aarch64-linux-gnu g++-riscv64-linux-gnu clang-14 libclang-rt-14-dev)
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--test]" >&2
  exit 2
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install_deps: not a Debian/Ubuntu system; make sure these are installed: ${packages[*]}" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install_deps: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
  fi
  sudo=(sudo)
fi
echo "install_deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
