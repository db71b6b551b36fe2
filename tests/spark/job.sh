#!/bin/sh
# Stand-in for the user's Spark job on the primary host: records what it sees.
master=$(grep '^spark.master ' "$SPARK_CONF_DIR/spark-defaults.conf" | cut -d' ' -f2)
echo "$FAKE_HOST command master=$master args=$*" >> "$FAKE_DIR/calls.log"
if [ "${FAKE_EXIT:-0}" != 0 ]; then echo "Py4JJavaError: job failed" >&2; fi
exit "${FAKE_EXIT:-0}"
