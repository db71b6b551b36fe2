# syntax=docker/dockerfile:1
# chameleon: the build stage compiles main.ts into one executable with the
# explicit permission list of deno.json (task "compile"); the image stage
# copies it to /opt/entrypoint behind tini.

ARG DENO_VERSION=2.9.6
ARG DEBIAN_BASE=debian:bookworm-slim

FROM denoland/deno:debian-${DENO_VERSION} AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY . .
RUN deno task compile

FROM ${DEBIAN_BASE} AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/entrypoint /opt/entrypoint
ENTRYPOINT ["tini", "--", "/opt/entrypoint"]
