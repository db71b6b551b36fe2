#!/bin/sh
# Stand-in for Spark's sbin/stop-master.sh: records the call and stops the stand-in master.
echo "$FAKE_HOST stop-master.sh $*" >> "$FAKE_DIR/calls.log"
kill "$(cat "$FAKE_DIR/master.pid")"
