/**
 * The process bench/plan_instructions.ts counts: `N` plans on 10,000 short
 * hyperparameters with the checkout at `ROOT`, a full collection before each.
 * It imports nothing but the code it plans with, and runs its loop at the
 * top level: the same loop inside a block of a module that awaits counted
 * about 40 million instructions more per plan (V8 runs such a block's code
 * differently), and hid a change of 9 million that this form shows.
 *
 *   deno run -A --v8-flags=--expose-gc bench/plan_loop.ts N ROOT
 */
const [plans, root] = Deno.args;
const { DEFAULT_CONFIG } = await import(`${root}/config.ts`);
const { detect } = await import(`${root}/contexts/mod.ts`);
const { plan } = await import(`${root}/plan.ts`);
const { World } = await import(`${root}/world.ts`);
const { sagemakerSnapshot } = await import(`${root}/bench/plan_inputs.ts`);
const s = sagemakerSnapshot(4, 10_000, true);
const d = detect(new World(s));
const gc = (globalThis as unknown as { gc: () => void }).gc;
for (let i = 0; i < Number(plans); i++) {
  gc();
  plan(new World(s), d, DEFAULT_CONFIG);
}
