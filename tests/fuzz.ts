/** Deterministic fuzzing inputs shared by the config tests. */

// A small deterministic PRNG, so a failure can be reproduced from the seed.
export function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

/** A random YAML document built from the config's own vocabulary and junk. */
export function randomYaml(r: () => number): string {
  const keys = [
    "commands",
    "training",
    "argv",
    "cwd",
    "shell",
    "user",
    "uid",
    "name",
    "mode",
    "umask",
    "env",
    "set",
    "fill",
    "overrides",
    "match",
    "paths",
    "model",
    "spark",
    "home",
    "secretFiles",
    "defaultWorkload",
    "kubernetes",
    "x",
    "hostWait",
  ];
  const scalars = [
    "exec",
    "auto",
    "1",
    "-1",
    "0002",
    '"0002"',
    "true",
    "null",
    "~",
    "/opt/x",
    "kubernetes-*",
    "[a, b]",
    "{}",
    "[]",
    "'*-serving'",
    "when-root",
    "3.5",
    '"\\u0000"',
    "&a x",
    "*a",
    "!!binary aGk=",
    "- x",
    ": :",
    "|\n  text",
    "{a: [1, {b: 2}]}",
  ];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const indent = " ".repeat(Math.floor(r() * 3) * 2);
    lines.push(
      r() < 0.2
        ? `${indent}- ${pick(scalars)}`
        : `${indent}${pick(keys)}: ${r() < 0.3 ? "" : pick(scalars)}`,
    );
  }
  return lines.join("\n") + "\n";
}
