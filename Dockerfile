# syntax=docker/dockerfile:1
#
# chameleon images: one per workload class, each correct in every context.
#
#   docker build --target ml    -t ml-base:dev .
#   docker build --target spark -t ml-spark:dev .
#   docker build --target dl    -t ml-dl:dev .
#
# Every base image and version is an ARG, so builds are reproducible and a
# local base can be substituted. The build stage bundles main.ts and compiles the bundle with the
# explicit permission list of deno.json (task "compile") and validates each
# variant's config; the images run tini as PID 1 with the entrypoint behind it,
# so SageMaker's `train`/`serve` arguments pass through tini untouched.
# Nothing is downloaded at run time.

ARG DENO_IMAGE=denoland/deno
ARG DENO_TAG=debian-2.9.6
ARG PYTHON_IMAGE=python
ARG PYTHON_TAG=3.12.8-slim-bookworm
ARG CUDA_IMAGE=nvidia/cuda
ARG CUDA_TAG=12.4.1-cudnn-runtime-ubuntu22.04

# ---------------------------------------------------------------------------
FROM ${DENO_IMAGE}:${DENO_TAG} AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY *.ts ./
COPY contexts/ contexts/
COPY adapters/ adapters/
COPY sys/ sys/
COPY examples/config/ examples/config/
RUN deno task compile \
 && mkdir -p /out \
 && for variant in ml spark dl; do \
      ./dist/entrypoint --check-config "examples/config/${variant}.yaml" --write-json "/out/${variant}.json" || exit; \
    done

# ---------------------------------------------------------------------------
# ml: Python and the scientific stack (traditional ML: training, batch
# processing, model serving, notebooks).
FROM ${PYTHON_IMAGE}:${PYTHON_TAG} AS ml
ARG VERSION=0.1.0
ARG ML_PACKAGES="numpy==2.1.3 pandas==2.2.3 scipy==1.14.1 scikit-learn==1.5.2 xgboost==2.1.3 jupyterlab==4.3.1 fastapi==0.115.5 uvicorn==0.32.1"
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libnss-wrapper ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*
# The package list is a word list: unquoted on purpose.
RUN pip install --no-cache-dir ${ML_PACKAGES}
# The unprivileged user and group-0 writable folders (image/setup.sh).
COPY image/setup.sh /usr/local/lib/chameleon/setup.sh
RUN /usr/local/lib/chameleon/setup.sh /opt/program /models /outputs /data /checkpoints
COPY --from=build /src/dist/entrypoint /opt/entrypoint
COPY --from=build /out/ml.json /etc/chameleon/config.json
LABEL org.opencontainers.image.title="chameleon ml" \
      org.opencontainers.image.description="Python ML base image: one image for SageMaker, Kubernetes, Vertex AI, AWS Batch and laptops" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      com.amazonaws.sagemaker.capabilities.accept-bind-to-port="true" \
      com.amazonaws.sagemaker.capabilities.multi-models="true"
WORKDIR /home/ml
ENTRYPOINT ["tini", "--", "/opt/entrypoint"]

# ---------------------------------------------------------------------------
# spark: ml plus a Java runtime, Spark with PySpark, and a folder for extra JARs.
FROM ml AS spark
ARG VERSION=0.1.0
ARG JAVA_PACKAGE=openjdk-17-jre-headless
ARG SPARK_VERSION=3.5.3
ARG SPARK_URL=https://archive.apache.org/dist/spark/spark-${SPARK_VERSION}/spark-${SPARK_VERSION}-bin-hadoop3.tgz
# Give the release's SHA-512 to pin it; empty checks against the .sha512 published beside it,
# in either of its layouts ("FILE: AB12 CD34 ..." from gpg, "ab12cd34...  FILE" from shasum).
ARG SPARK_SHA512=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${JAVA_PACKAGE} curl \
 && curl -fsSLo /tmp/spark.tgz "${SPARK_URL}" \
 && if [ -z "${SPARK_SHA512}" ]; then \
      SPARK_SHA512="$(curl -fsSL "${SPARK_URL}.sha512" | tr -d ' \n' | grep -oiE '[0-9a-f]{128}' | head -n1 | tr 'A-F' 'a-f')"; \
    fi \
 && echo "${SPARK_SHA512}  /tmp/spark.tgz" | sha512sum -c - \
 && mkdir -p /opt/spark /opt/spark/extra-jars \
 && tar -xzf /tmp/spark.tgz -C /opt/spark --strip-components=1 \
 && rm /tmp/spark.tgz \
 && apt-get purge -y curl \
 && rm -rf /var/lib/apt/lists/* \
 && chgrp -R 0 /opt/spark/extra-jars /opt/spark/conf \
 && chmod -R g=u /opt/spark/extra-jars /opt/spark/conf
ENV SPARK_HOME=/opt/spark \
    PATH=/opt/spark/bin:/opt/spark/sbin:${PATH} \
    PYTHONPATH=/opt/spark/python \
    PYSPARK_PYTHON=/usr/local/bin/python3
RUN pip install --no-cache-dir "pyspark==${SPARK_VERSION}"
COPY --from=build /out/spark.json /etc/chameleon/config.json
# ml's labels are inherited: this image serves no models (no serving command), so not multi-model.
LABEL org.opencontainers.image.title="chameleon spark" \
      org.opencontainers.image.description="Spark and PySpark ML image: standalone clusters on SageMaker, Spark on Kubernetes, local mode elsewhere" \
      org.opencontainers.image.version="${VERSION}" \
      com.amazonaws.sagemaker.capabilities.multi-models="false"

# ---------------------------------------------------------------------------
# dl: CUDA runtime and PyTorch for GPU deep learning (multi-node via torchrun).
FROM ${CUDA_IMAGE}:${CUDA_TAG} AS dl
ARG VERSION=0.1.0
ARG TORCH_VERSION=2.5.1
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu124
ARG JUPYTERLAB_VERSION=4.3.1
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip tini libnss-wrapper ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*
RUN pip3 install --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
 && pip3 install --no-cache-dir "jupyterlab==${JUPYTERLAB_VERSION}"
COPY image/setup.sh /usr/local/lib/chameleon/setup.sh
RUN /usr/local/lib/chameleon/setup.sh /opt/program /models /outputs /checkpoints
COPY --from=build /src/dist/entrypoint /opt/entrypoint
COPY --from=build /out/dl.json /etc/chameleon/config.json
LABEL org.opencontainers.image.title="chameleon dl" \
      org.opencontainers.image.description="GPU deep learning base image (CUDA, PyTorch) for every platform" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      com.amazonaws.sagemaker.capabilities.accept-bind-to-port="true"
WORKDIR /home/ml
ENTRYPOINT ["tini", "--", "/opt/entrypoint"]
