#!/bin/sh
# Stand-in for Spark's sbin/start-master.sh: records the call, starts the
# stand-in master in the background and returns once its port is open.
echo "$FAKE_HOST start-master.sh $*" >> "$FAKE_DIR/calls.log"
# Real Spark runs the JVM in the foreground then, and the script never returns: fail loudly instead.
if [ -n "${SPARK_NO_DAEMONIZE:-}" ]; then
  echo "SPARK_NO_DAEMONIZE is set: this script would not return" >&2
  exit 1
fi
# A master that cannot start (FAKE_MASTER_FAILS: its exit code).
if [ -n "${FAKE_MASTER_FAILS:-}" ]; then
  echo "failed to launch: nice -n 0 org.apache.spark.deploy.master.Master" >&2
  exit "$FAKE_MASTER_FAILS"
fi
# A slow start, to be signalled during (FAKE_START_SLEEP seconds).
sleep "${FAKE_START_SLEEP:-0}"
host=""; port=7077; webui=8080
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=$2; shift ;;
    --port) port=$2; shift ;;
    --webui-port) webui=$2; shift ;;
  esac
  shift
done
nohup "$FAKE_DENO" run --quiet --allow-net --allow-read "$FAKE_DIR/fake_master.ts" "$host" "$port" "$webui" "$FAKE_DIR/registry" \
  > "$FAKE_DIR/master.log" 2>&1 &
echo $! > "$FAKE_DIR/master.pid"
i=0
while [ $i -lt 100 ]; do
  if "$FAKE_DIR/port-open" "$host" "$port"; then exit 0; fi
  sleep 0.1; i=$((i + 1))
done
echo "stand-in master did not start" >&2
exit 1
