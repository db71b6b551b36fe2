/**
 * Which names carry secrets (design §8), and redaction of values for
 * `--explain`, `--capture` and logs. Pure.
 *
 * @module
 */

/** What a secret value is replaced with. */
export const REDACTED = "<redacted>";

const ALWAYS_SECRET = new Set([
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AZUREML_RUN_TOKEN",
  "MODAL_IDENTITY_TOKEN",
]);
/** Names that match a pattern but hold no secret (nss_wrapper's passwd file path). */
const NEVER_SECRET = new Set(["NSS_WRAPPER_PASSWD"]);
const SECRET_PATTERN = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY|_KEY$|CREDENTIAL/;
const NOT_SECRET_SUFFIX = /_(URI|URL|ADDRESS|FILE|PATH|DIR|ID|NAME)$/;

/**
 * Whether a variable or hyperparameter name carries a secret. Hyphens and dots
 * count as underscores, so the hyperparameter `api-key` is as secret as `api_key`.
 */
export function isSecretName(name: string): boolean {
  let known = verdicts.get(name);
  if (known === undefined) {
    const n = name.toUpperCase().replace(/[-.]/g, "_");
    known = ALWAYS_SECRET.has(n) ||
      (!NEVER_SECRET.has(n) && SECRET_PATTERN.test(n) && !NOT_SECRET_SUFFIX.test(n));
    if (verdicts.size > 100_000) verdicts.clear();
    verdicts.set(name, known);
  }
  return known;
}

// Names repeat (every env op of a plan is checked), so verdicts are remembered.
const verdicts = new Map<string, boolean>();

/** A copy of `env` with secret values replaced. */
export function redactEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = isSecretName(k) ? REDACTED : v;
  return out;
}

/** A copy of a JSON value with every string under a secret-named key replaced. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretName(k) && (typeof v === "string" || typeof v === "number")
        ? REDACTED
        : redactJson(v);
    }
    return out;
  }
  return value;
}

/**
 * Replaces every occurrence of the given secret values in `text`. A last line
 * of defence for logs; values shorter than 6 characters are left alone, since
 * replacing them would garble unrelated text.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 6 && out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}
