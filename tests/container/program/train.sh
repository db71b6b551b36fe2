#!/bin/sh
# A SageMaker-style training program: reports what it sees, then behaves as the
# hyperparameter "mode" asks (ok, fail, sleep, rendezvous: program/rendezvous.py).
/opt/program/check.sh > /opt/ml/model/report.txt
case "${SM_HP_MODE:-ok}" in
  fail)
    echo "epoch 1: loss=nan"
    echo "RuntimeError: loss is nan" >&2
    exit 3
    ;;
  sleep)
    trap 'echo "stopping on SIGTERM" >&2; exit 42' TERM
    touch /opt/ml/model/ready
    while :; do sleep 0.1; done
    ;;
  rendezvous)
    exec python3 /opt/program/rendezvous.py
    ;;
esac
