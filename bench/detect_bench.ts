import { detect } from "../contexts/mod.ts";
import { fixtures } from "../tests/helpers.ts";
import { parseSnapshot } from "../snapshot.ts";
import { World } from "../world.ts";

for (const f of fixtures()) {
  const snapshot = parseSnapshot(Deno.readTextFileSync(f.path), f.path);
  Deno.bench({
    name: `detect() ${f.contextId}/${f.name}`,
    group: "detect",
    fn: () => {
      detect(new World(snapshot));
    },
  });
}
