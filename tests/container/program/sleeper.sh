#!/bin/sh
# Waits for SIGTERM and exits with its own code.
trap 'echo "stopping on SIGTERM"; exit 42' TERM
echo ready
while :; do sleep 0.1; done
