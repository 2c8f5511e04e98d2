#!/usr/bin/env bash
# Quick start: install what is missing, build pact's tour with the `release` preset
# (-march=native) and run it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install_deps.sh
cmake --preset release
cmake --build --preset release --target pact_tour
# Let the peer libraries use their best kernels on this CPU (see scripts/peer_env.sh).
source scripts/peer_env.sh
# Run from the build folder so the tour's pact_tour.json lands there, not in the checkout.
cd build/release
./examples/pact_tour "$@"
# The roofline chart needs matplotlib, which Debian installs for its own python3.
py=python3
[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c "import matplotlib" 2>/dev/null && py=/usr/bin/python3
"$py" ../../tools/roofline.py pact_tour.json pact_tour_roofline.png
