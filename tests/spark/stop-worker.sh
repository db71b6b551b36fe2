#!/bin/sh
# Stand-in for Spark's sbin/stop-worker.sh: records the call.
echo "$FAKE_HOST stop-worker.sh $*" >> "$FAKE_DIR/calls.log"
