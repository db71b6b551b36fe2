/**
 * Writes `config.schema.json` from the zod schema (`deno task schema`), so
 * editors complete and check config YAML. A test fails when it is stale.
 */
import { jsonSchema } from "../config_schema.ts";

/** The file content the schema task writes. */
export function schemaText(): string {
  return JSON.stringify(jsonSchema(), null, 2) + "\n";
}

if (import.meta.main) {
  const out = new URL("../config.schema.json", import.meta.url);
  Deno.writeTextFileSync(out, schemaText());
  console.log(`wrote ${out.pathname}`);
}
