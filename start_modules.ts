/**
 * The start and every module it imports statically, imported from here in
 * one step: what main.ts loads for a start (and not for the exec stage).
 *
 * Why a list: when Deno runs the sources, it parses the inline source map of
 * the module that first imports each other module (measured with callgrind,
 * bench/RESULTS.md). Imported from here, every module is first imported by
 * this small file, so one small map is parsed instead of those of start.ts,
 * contexts/mod.ts, adapters/mod.ts and the other large importers. With
 * main.ts's own list, a start from the sources runs about 9 million
 * instructions (5 %) less. The bundle the image compiles has no source maps
 * and is not affected.
 *
 * start.ts comes first, so modules evaluate in the order its imports give;
 * the rest are loaded by then. tests/imports_test.ts keeps the list equal to
 * start.ts's static imports (direct and indirect) less those of main.ts.
 *
 * @module
 */

export { start } from "./start.ts";
import "./adapters/_adapter.ts";
import "./adapters/_files.ts";
import "./adapters/_path.ts";
import "./pyjson.ts";
import "./adapters/command.ts";
import "./adapters/compat.ts";
import "./adapters/config_env.ts";
import "./adapters/core.ts";
import "./adapters/credentials.ts";
import "./adapters/distributed.ts";
import "./adapters/hooks.ts";
import "./adapters/metrics.ts";
import "./adapters/ml_paths.ts";
import "./adapters/mod.ts";
import "./adapters/network.ts";
import "./adapters/resources.ts";
import "./adapters/sagemaker.ts";
import "./adapters/serving.ts";
import "./adapters/spark.ts";
import "./adapters/spark_pod.ts";
import "./adapters/user.ts";
import "./cli.ts";
import "./config.ts";
import "./config_load.ts";
import "./contexts/_signals.ts";
import "./contexts/aws_batch.ts";
import "./contexts/azure_ml.ts";
import "./contexts/colab.ts";
import "./contexts/databricks.ts";
import "./contexts/ecs.ts";
import "./contexts/facts.ts";
import "./contexts/kubernetes.ts";
import "./contexts/local.ts";
import "./contexts/mod.ts";
import "./contexts/modal.ts";
import "./contexts/sagemaker.ts";
import "./contexts/slurm.ts";
import "./contexts/vertex_ai.ts";
import "./paths.ts";
import "./plan.ts";
import "./shape.ts";
import "./snapshot.ts";
import "./sys/chown.ts";
import "./sys/files.ts";
import "./sys/stream.ts";
import "./version.ts";
