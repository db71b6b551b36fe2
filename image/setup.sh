#!/bin/sh
# Prepares an image for chameleon (used by the Dockerfile's ml and dl targets
# and by the container tests): the unprivileged user (uid 1000, gid 100, as
# SageMaker Studio and docker-stacks expect) and the writable folders, which
# also belong to group 0 so OpenShift's random uids (always gid 0) can write
# them. /etc/passwd stays root-only: nss_wrapper names random uids.
#
#   setup.sh FOLDER...
set -eu

useradd --uid 1000 --gid 100 --groups 100 --create-home --home-dir /home/ml --shell /bin/sh ml
mkdir -p /run/chameleon /etc/chameleon/hooks.d/before-apply /etc/chameleon/hooks.d/before-run "$@"
for dir in /home/ml /run/chameleon "$@"; do
  chgrp -R 0 "$dir"
  chmod -R g=u "$dir"
done
