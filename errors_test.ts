import { deepEqual, equal } from "@std/assert";
import {
  CommandError,
  errorLine,
  EXIT,
  exitCodeOf,
  HookError,
  HostWaitError,
  InputError,
  LINE_LIMIT,
  shortLine,
  UsageError,
  visibleText,
} from "./errors.ts";
import { Logger } from "./log.ts";

Deno.test("errors are one line whatever the message carries", () => {
  const e = new InputError("File /a\nb: expected\r\n   an object");
  equal(e.message, "File /a b: expected an object");
  equal(e.exitCode, 78);
  equal(new UsageError("Option --x\n").message, "Option --x");
  equal(new InputError("File /a\rb").message, "File /a b", "a lone carriage return too");
});

Deno.test("errorLine() and exitCodeOf() say the same of an error wherever it ends a start (log line, failure file)", () => {
  const ours = new InputError("File /x: expected an object");
  equal(errorLine(ours), "File /x: expected an object");
  equal(exitCodeOf(ours), 78);
  const bug = new TypeError("cannot read properties of undefined");
  equal(errorLine(bug), "Internal error (a bug): cannot read properties of undefined");
  equal(exitCodeOf(bug), 70);
  equal(errorLine("thrown text"), "Internal error (a bug): thrown text");
});

Deno.test("errorLine() puts a bug's message on one line, as ours are: the failure file shows it unescaped", () => {
  equal(
    errorLine(new Error("open '/data/a\nb'\r\n  at x")),
    "Internal error (a bug): open '/data/a b' at x",
  );
  equal(errorLine("two\nlines"), "Internal error (a bug): two lines");
  // As the pattern of blanks around line ends the constructor used puts it.
  const byPattern = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ").trim();
  const pieces = ["a", " ", "\t", "\n", "\r", "\u00a0", "b c"];
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 500; n++) {
    let text = "";
    for (let i = Math.floor(next() * 12); i > 0; i--) {
      text += pieces[Math.floor(next() * pieces.length)];
    }
    equal(new InputError(text).message, byPattern(text), JSON.stringify(text));
  }
});

Deno.test("each error a user can cause carries design section 7's exit code and its class's name", () => {
  const cases: [Error & { exitCode: number }, string, number][] = [
    [new UsageError("u"), "UsageError", 2],
    [new HostWaitError("h"), "HostWaitError", 69],
    [new InputError("i"), "InputError", 78],
    [new HookError("k", 3), "HookError", 3],
    [new CommandError("c", 126), "CommandError", 126],
    [new CommandError("c", 127), "CommandError", 127],
  ];
  deepEqual(
    { ...EXIT },
    { usage: 2, hostWait: 69, internal: 70, config: 78, notExecutable: 126, notFound: 127 },
  );
  for (const [e, name, code] of cases) {
    equal(e.name, name);
    equal(e.exitCode, code, name);
    equal(exitCodeOf(e), code, name);
  }
});

Deno.test("a failed hook never ends a start with 0, even when it gives no code of its own", () => {
  equal(new HookError("Hook /h could not start: reason", 0).exitCode, 1);
});

Deno.test("shortLine() cuts a quoted value over 200 characters to its start and says its length; shorter ones and the rest stay", () => {
  const big = "v".repeat(100_000);
  equal(
    shortLine(`Variable X ${JSON.stringify(big)}: expected "a" or "b"`),
    `Variable X "${"v".repeat(200)}"... (100000 characters): expected "a" or "b"`,
  );
  const normal = `Variable "${"n".repeat(200)}": expected a name, got "\\"quoted\\" \\\\ \\u001b"`;
  equal(shortLine(normal), normal);
  // Escapes count as the characters they stand for, and are never cut in two; nor is a pair.
  const escaped = JSON.stringify("\n".repeat(300));
  equal(shortLine(escaped), `${JSON.stringify("\n".repeat(200))}... (300 characters)`);
  // Characters are code points: 151 of them (302 UTF-16 units) are not cut; 251 are, never
  // between the halves of a pair.
  const short = JSON.stringify("x" + "\u{1f600}".repeat(150));
  equal(shortLine(short), short);
  const pairs = JSON.stringify("x" + "\u{1f600}".repeat(250));
  equal(
    shortLine(pairs),
    `${JSON.stringify("x" + "\u{1f600}".repeat(199))}... (251 characters)`,
  );
  // Text between quotes that is no JSON string is no quoted value: its words stay when short.
  const raw = `PATH="${"\\q ".repeat(150)}"`;
  equal(shortLine(raw), raw);
});

Deno.test("shortLine() cuts only the values a message quotes, whatever raw quote an unquoted path holds", () => {
  const big = JSON.stringify("v".repeat(300));
  const cut = `"${"v".repeat(200)}"... (300 characters)`;
  // The path's quote would pair with the value's opening one: the value was left whole.
  for (const path of ['/x/a"b', '/x/ "b', '/x/a"', '/x/"b"c']) {
    equal(
      shortLine(`Hook ${path} failed: variable X ${big}: expected a name`),
      `Hook ${path} failed: variable X ${cut}: expected a name`,
      path,
    );
  }
  // ... or with the next value's, and the text between, over 200 characters, was cut as one.
  const expected = `expected one of ${"k".repeat(100)}, ${"m".repeat(100)}, got string "v"`;
  const line = `Config /x/a"b: /env/set/X: ${expected}`;
  equal(shortLine(line), line);
  // A value JSON.stringify quotes in a list or an object is one as well.
  const list = `Adapters a and b disagree on command: [${big},"x"] vs {"k":${big}}`;
  equal(
    shortLine(list),
    `Adapters a and b disagree on command: [${cut},"x"] vs {"k":${cut}}`,
  );
});

/** shortLine() as its rule reads, trying a JSON string pattern at each quote (quadratic). */
function shortLineByPattern(line: string): string {
  // deno-lint-ignore no-control-regex -- a JSON string holds no raw control character
  const string = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
  const words = (t: string) =>
    t.replace(/\S+/gu, (w) => {
      const [, value, end] = /^(.*?)([:,;)\]]*)$/su.exec(w)!;
      const chars = [...value!];
      return chars.length <= 200
        ? w
        : `${chars.slice(0, 200).join("")} ... (${chars.length} characters)${end}`;
    });
  let out = "";
  let copied = 0;
  for (let open = 0; open < line.length; open++) {
    if (line[open] !== '"' || (open > 0 && !/[\s([{,:=]/.test(line[open - 1]!))) continue;
    string.lastIndex = open;
    const m = string.exec(line);
    const end = open + (m?.[0].length ?? 0);
    if (m === null || (end < line.length && !/[\s)\]},:;.]/.test(line[end]!))) continue;
    const chars = [...(JSON.parse(m[0]) as string)];
    const shown = chars.length <= 200
      ? m[0]
      : `${JSON.stringify(chars.slice(0, 200).join(""))}... (${chars.length} characters)`;
    out += words(line.slice(copied, open)) + shown;
    copied = end;
    open = end - 1;
  }
  return out + words(line.slice(copied));
}

Deno.test("shortLine() finds the quoted values a pattern tried at each quote finds, in one pass", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = [
    '"',
    "\\",
    "a",
    " ",
    ":",
    ")",
    "\u00e9",
    "\\n",
    "\\q",
    "\n",
    "x".repeat(120),
    '\\"',
  ];
  for (let n = 0; n < 1000; n++) {
    let line = "";
    const length = Math.floor(next() * 40);
    for (let i = 0; i < length; i++) line += pieces[Math.floor(next() * pieces.length)];
    equal(shortLine(line), shortLineByPattern(line), JSON.stringify(line));
  }
  // Quotes that never close leave the line as it is.
  const open = `Variable "${'\\" '.repeat(300)}`;
  equal(shortLine(open), open);
});

Deno.test("shortLine() cuts an unquoted word over 200 characters, and a line over 1024 bytes in its middle, keeping its end", () => {
  const path = "/d".repeat(300);
  const shown = `${"/d".repeat(100)} ... (600 characters)`;
  equal(shortLine(`Config ${path}: expected a mapping`), `Config ${shown}: expected a mapping`);
  equal(shortLine(shortLine(`Config ${path}: x`)), `Config ${shown}: x`, "cut once only");
  // 10,000 short words: each stays, the line does not.
  const hosts = Array.from({ length: 10_000 }, (_, i) => `algo-${i}`).join(", ");
  const line = `Hosts never resolved within 900 s: ${hosts} (resolved 0 of 10000)`;
  const cut = shortLine(line);
  equal(new TextEncoder().encode(cut).length <= LINE_LIMIT, true, `${cut.length}`);
  equal(cut.startsWith("Hosts never resolved within 900 s: algo-0, algo-1,"), true, cut);
  equal(cut.endsWith(", algo-9999 (resolved 0 of 10000)"), true, cut);
  equal(/ \.\.\. \(\d+ characters left out\) \.\.\. /.test(cut), true, cut);
  equal(shortLine(cut), cut, "cut once only");
  // Never between the bytes of a character.
  const wide = shortLine(`Variable X: ${"\u00e9\u{1f600} ".repeat(1000)}: expected ASCII`);
  equal(wide.includes("\ufffd"), false);
  equal(wide.endsWith(": expected ASCII"), true);
});

Deno.test("shortLine() of an escaped line cuts no escape in two, in a long word or at either side of its middle", () => {
  // What is left of each cut piece once the escapes are taken out: no backslash, u, 0, 1 or b.
  const leftOver = (cut: string) =>
    cut.replace(/ \.\.\. \(\d+ characters(?: left out\) \.\.\.|\))/g, " ").replaceAll(
      "\\u001b",
      "",
    );
  let middles = 0;
  for (let k = 0; k < 12; k++) {
    const word = visibleText(`/${"x".repeat(190 + k)}${"\x1b".repeat(8)}`);
    const middle = visibleText(`Hook ${"x\x1b ".repeat(300 + k)}failed: expected`);
    for (const line of [`Config ${word}: expected a mapping`, middle]) {
      const cut = shortLine(line);
      equal(cut === line, false, "cut");
      equal(/[\\u01b]/.test(leftOver(cut)), false, cut);
    }
    if (shortLine(middle).includes("left out) ... ")) middles++;
  }
  equal(middles, 12);
});

Deno.test("Logger cuts its error and warning lines as shortLine() does, after hiding secrets; info lines stay whole", () => {
  const secret = "s3cr3t-".repeat(40);
  for (const format of ["text", "json"]) {
    const lines: string[] = [];
    const log = new Logger({ CHAMELEON_LOG_FORMAT: format }, (l) => lines.push(l));
    log.addSecrets([secret]);
    const long = "/w".repeat(200);
    log.warn(`runtime dir ${long} is not ours`);
    log.error(`Variable X ${JSON.stringify(secret + "v".repeat(300))}: expected a name`);
    log.info(`running ${long}`);
    const msgs = format === "json" ? lines.map((l) => JSON.parse(l).msg) : lines;
    equal(msgs[0]!.includes(`${"/w".repeat(100)} ... (400 characters) is not ours`), true, msgs[0]);
    equal(
      msgs[1]!.includes(`Variable X "<redacted>${"v".repeat(190)}"... (310 characters): expected`),
      true,
      msgs[1],
    );
    equal(msgs[2]!.includes(`running ${long}`), true, format);
    equal(lines.some((l) => l.includes("s3cr3t")), false);
  }
});

Deno.test("Logger hides a secret whole when a shorter one it holds was added before it", () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  log.addSecrets(["abcd1234"]);
  log.addSecrets(["abcd1234-and-more"]);
  log.warn("token abcd1234-and-more, then abcd1234");
  deepEqual(lines, ["chameleon: warn: token <redacted>, then <redacted>"]);
});

Deno.test("Logger keeps a cut value's C1 and DEL characters escaped in a text line, as visibleText() wrote them", () => {
  const lines: string[] = [];
  const log = new Logger({}, (l) => lines.push(l));
  // CSI (U+009B) drives a terminal as ESC [ does; JSON.stringify writes it raw.
  const value = "\u009b2J\u007f" + "a".repeat(300);
  log.error(`Variable X ${JSON.stringify(value)}: expected a name`);
  log.warn(`Variable X ${JSON.stringify(value)}: expected a name`);
  for (const line of lines) {
    // deno-lint-ignore no-control-regex -- control characters are what it looks for
    equal(/[\x00-\x1f\x7f-\x9f]/.test(line), false, JSON.stringify(line));
    equal(line.includes(`"\\u009b2J\\u007f${"a".repeat(196)}"... (304 characters)`), true, line);
  }
  // The failure file's line (no visibleText()) keeps the value's JSON, with them escaped alike.
  const cut = shortLine(`Variable X ${JSON.stringify(value)}: expected a name`);
  equal(JSON.parse(cut.slice(11, cut.indexOf("..."))), value.slice(0, 200));
  equal(/[\x7f-\x9f]/.test(cut), false, cut);
});
