#!/bin/sh
# Installs the Debian packages the test suite uses for real (PID 1 under
# unshare, nss_wrapper, podman containers from a debootstrap base, the shell
# linter, strace, and ip and iptables for a network namespace that drops
# packets). The benchmarks need more: tini (bench/running.ts) and valgrind
# (bench/instructions.ts). As root it installs what is missing; otherwise
# it names the packages and fails, since tests are never skipped.
set -eu

need=""
have() { command -v "$1" >/dev/null 2>&1; }
have unshare || need="$need util-linux"
have setpriv || need="$need util-linux"
have taskset || need="$need util-linux"
have ps || need="$need procps"
have podman || need="$need podman"
have runc || need="$need runc"
have debootstrap || need="$need debootstrap"
have shellcheck || need="$need shellcheck"
have strace || need="$need strace"
# The Spark worker test drops packets in a network namespace of its own.
have ip || need="$need iproute2"
have iptables || need="$need iptables"
nss=no
for lib in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do [ -e "$lib" ] && nss=yes; done
[ "$nss" = yes ] || need="$need libnss-wrapper"

[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && have apt-get; then
  echo "tests/prereqs.sh: installing$need" >&2
  apt-get update -qq
  # shellcheck disable=SC2086 # the package list is meant to split
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
else
  echo "tests/prereqs.sh: the tests need these Debian packages:$need (install them, or run as root)" >&2
  exit 1
fi
