#!/usr/bin/env sh
# Regenerates the test number's voice prompt (committed; the server never needs espeak-ng at run time).
# Needs: espeak-ng, sox (Debian: apt-get install -y espeak-ng sox).
set -eu
cd "$(dirname "$0")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 150 -w "$tmp/raw.wav" "Your call has been connected"
# 8 kHz mono 16-bit, peak normalized to -3 dBFS.
sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer test-number-prompt.wav norm -3
