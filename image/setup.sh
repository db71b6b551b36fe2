#!/bin/sh
# Prepares an image for chameleon (used by the Dockerfile's ml and dl targets
# and by the container tests): the unprivileged user (uid 1000, gid 100, as
# SageMaker Studio and docker-stacks expect) and the writable folders. Those
# belong to that user, whom a root start switches to, and to group 0 as well,
# so OpenShift's random uids (always gid 0) can write them. /run/chameleon
# stays root's (a root start refuses a runtime dir of another uid), writable
# by group 0. /etc/passwd stays root-only: nss_wrapper names random uids.
#
#   setup.sh FOLDER...
set -eu

useradd --uid 1000 --gid 100 --groups 100 --create-home --home-dir /home/ml --shell /bin/sh ml
mkdir -p /run/chameleon /etc/chameleon/hooks.d/before-apply /etc/chameleon/hooks.d/before-run "$@"
for dir in "$@"; do
  chown -R ml "$dir"
done
for dir in /home/ml /run/chameleon "$@"; do
  chgrp -R 0 "$dir"
  chmod -R g=u "$dir"
done
