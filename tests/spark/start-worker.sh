#!/bin/sh
# Stand-in for Spark's sbin/start-worker.sh: records the call and registers
# the worker's host with the stand-in master (unless told to never register, or
# told to register twice).
echo "$FAKE_HOST start-worker.sh $*" >> "$FAKE_DIR/calls.log"
# Real Spark runs the JVM in the foreground then, and the script never returns: fail loudly instead.
if [ -n "${SPARK_NO_DAEMONIZE:-}" ]; then
  echo "SPARK_NO_DAEMONIZE is set: this script would not return" >&2
  exit 1
fi
host=""
while [ $# -gt 0 ]; do
  case "$1" in --host) host=$2; shift ;; esac
  shift
done
if [ "${FAKE_NEVER_REGISTER:-}" != "$FAKE_HOST" ]; then
  echo "$host" >> "$FAKE_DIR/registry"
fi
# Two worker instances on one host (SPARK_WORKER_INSTANCES=2) register the same address twice.
if [ "${FAKE_REGISTER_TWICE:-}" = "$FAKE_HOST" ]; then
  echo "$host" >> "$FAKE_DIR/registry"
fi
# A worker whose own children outlive what started them (FAKE_WORKER_ORPHANS of them): their
# parent is gone (orphans-spawned) before they end, each once orphans-go exists, recording it in
# orphans.log; re-parented to the host's PID 1, which must reap them.
if [ -n "${FAKE_WORKER_ORPHANS:-}" ]; then
  sh -c 'i=0; while [ $i -lt "$FAKE_WORKER_ORPHANS" ]; do
    (while [ ! -f "$FAKE_DIR/orphans-go" ]; do sleep 0.05; done
     echo "$FAKE_HOST" >> "$FAKE_DIR/orphans.log") &
    i=$((i + 1)); done; touch "$FAKE_DIR/orphans-spawned"' &
fi
