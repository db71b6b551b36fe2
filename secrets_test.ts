import { deepEqual, equal, ok } from "@std/assert";
import { type PyDict, pyDumps, PyInt, type PyValue } from "./pyjson.ts";
import {
  ALWAYS_SECRET,
  hiddenEverywhere,
  hideSecretPairs,
  hideUrlSecrets,
  isSecretFlag,
  isSecretName,
  isSecretProperty,
  mayQuoteAt,
  redactArgs,
  REDACTED,
  redactJsonText,
  redactPyValue,
  scrub,
  scrubber,
  scrubDeep,
  secretFileValue,
  secretForms,
  secretsInArgs,
  secretsInJson,
  secretsInText,
} from "./secrets.ts";

Deno.test("isSecretName() follows design §8 in any case and with - or . for _", () => {
  const cases: [string, boolean][] = [
    ["AWS_SECRET_ACCESS_KEY", true],
    ["db_password", true],
    ["Api-Key", true],
    ["api.key", true],
    ["GITHUB_TOKEN", true],
    ["ssh-private-key", true],
    ["MY_CREDENTIALS", true],
    ["hf_passwd", true],
    ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false],
    ["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS", false],
    ["TOKEN_FILE", false],
    ["secret-name", false],
    ["NSS_WRAPPER_PASSWD", false],
    ["nss-wrapper-passwd", false],
    ["KEYBOARD", false],
    ["monkey", false],
    ["SM_HP_LEARNING_RATE", false],
    ["", false],
    // Upper-casing "ſ" (U+017F) gives "S": the name is as secret as "secret".
    ["\u017fecret", true],
    ["caf\u00e9_token", true],
    ["caf\u00e9", false],
    // `_KEY` counts at the end of a name only, on the long way for non-ASCII names too.
    ["API_KEY", true],
    ["API_KEY_VERSION", false],
    ["caf\u00e9_key", true],
    ["caf\u00e9_key_version", false],
    // PRIVATE_KEY counts anywhere in a name; each not-secret ending counts on its own.
    ["SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", true],
    ["private_key_id", false],
    ["OAUTH_TOKEN_URL", false],
    ["VAULT_SECRET_ADDRESS", false],
    ["HF_TOKEN_PATH", false],
    ["CREDENTIALS_DIR", false],
  ];
  for (const [name, want] of cases) equal(isSecretName(name), want, name);
});

Deno.test("isSecretName() finds every always-secret name in every spelling", () => {
  ok(ALWAYS_SECRET.size > 0);
  for (const name of ALWAYS_SECRET) {
    for (
      const spelling of [
        name,
        name.toLowerCase(),
        name.replaceAll("_", "-"),
        name.replaceAll("_", "."),
      ]
    ) {
      ok(isSecretName(spelling), spelling);
    }
  }
});

Deno.test("isSecretFlag() knows a secret-named flag alone and with its value", () => {
  const cases: [string, boolean][] = [
    ["--token", true],
    ["-password", true],
    ["--api-key=abc", true],
    ["--hf_token=", true],
    ["--epochs", false],
    ["--model-dir=/x", false],
    ["token", false],
    ["--token-file=/run/t", false],
  ];
  for (const [word, want] of cases) equal(isSecretFlag(word), want, word);
});

Deno.test("secretsInJson() takes the value after a secret flag and in --flag=value", () => {
  const found = secretsInJson(["python", "t.py", "--token", "t0", "--api-key=k1", "--lr=3", "x"]);
  deepEqual([...found].sort(), ["k1", "t0"]);
});

Deno.test("redactArgs() hides flag values whatever their length, and known values inside words", () => {
  deepEqual(
    redactArgs(
      ["python", "t.py", "--password", "pw", "--api-key=k", "--note", "uses s3cr3t-value", "-t"],
      ["s3cr3t-value"],
    ),
    [
      "python",
      "t.py",
      "--password",
      "<redacted>",
      "--api-key=<redacted>",
      "--note",
      "uses <redacted>",
      "-t",
    ],
  );
  // A flag with its value in the same word does not take the next one.
  deepEqual(redactArgs(["--token=a", "next"]), ["--token=<redacted>", "next"]);
  // A property set in a word (`--conf key=value`): secret by the property's name, an Azure
  // storage key's too (named by its account, no secret word ends it).
  const azure = "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net";
  deepEqual(
    redactArgs([
      "spark-submit",
      "--conf",
      "spark.hadoop.fs.s3a.secret.key=S3SECRET",
      "--conf",
      `${azure}=AZKEY123`,
      "--conf",
      "spark.executor.memory=4g",
    ]),
    [
      "spark-submit",
      "--conf",
      "spark.hadoop.fs.s3a.secret.key=<redacted>",
      "--conf",
      `${azure}=<redacted>`,
      "--conf",
      "spark.executor.memory=4g",
    ],
  );
  equal(isSecretProperty(azure), true);
  equal(isSecretName(azure), false, "design section 8's rule for variables stays as it is");
});

Deno.test("redactArgs() hides a word that is a known secret of any length, and JSON however it escapes", () => {
  deepEqual(redactArgs(["--k", "Zq9", "--n", "Zq9x"], ["Zq9"]), [
    "--k",
    "<redacted>",
    "--n",
    "Zq9x",
  ]);
  // Written as the user wrote it when scrubbing hides the secret; re-written when it cannot.
  deepEqual(redactArgs(['{"api_key": "sk-1234"}'], ["sk-1234"]), ['{"api_key": "<redacted>"}']);
  deepEqual(redactArgs(['{"api_key": "sk\\/1234"}'], ["sk/1234"]), ['{"api_key":"<redacted>"}']);
  deepEqual(redactArgs(['{"credentials": {"user": "bob", "pass": "p4ss"}}']), [
    '{"credentials":"<redacted>"}',
  ]);
});

Deno.test("secretForms() gives a secret as written in JSON, JSON-in-JSON, Python's ASCII JSON and YAML", () => {
  const forms = secretForms(['it\'s "ä"']);
  for (
    const form of [
      'it\'s "ä"',
      'it\'s \\"ä\\"',
      'it\'s \\"\\u00e4\\"',
      'it\'s \\\\\\"ä\\\\\\"',
      "it''s \"ä\"",
    ]
  ) {
    ok(forms.includes(form), form);
  }
  deepEqual(forms, [...forms].sort((a, b) => b.length - a.length), "longest first");
});

Deno.test("secretForms() has every form Python's json.dumps writes: DEL is escaped like non-ASCII", () => {
  const secret = "del\x7fsecret\u{1f511}";
  const python = pyDumps(secret).slice(1, -1); // ensure_ascii, as the toolkit's SM_HPS
  equal(python, "del\\u007fsecret\\ud83d\\udd11");
  ok(secretForms([secret]).includes(python));
  ok(secretForms([secret]).includes(pyDumps(secret, { ensureAscii: false }).slice(1, -1)));
});

Deno.test("hideUrlSecrets() hides the password of each URL's user information, and nothing else", () => {
  const cases: [string, string][] = [
    ["http://svc:pw@proxy:3128", "http://svc:<redacted>@proxy:3128"],
    ["postgres://u:p%40ss:w@h/db?x=1", "postgres://u:<redacted>@h/db?x=1"],
    ["a=https://x:1@h b=git+ssh://g:2@h", "a=https://x:<redacted>@h b=git+ssh://g:<redacted>@h"],
    ["https://:onlypass@h", "https://:<redacted>@h"],
    // Split as URL parsers split it: the user information ends at the last @.
    ["http://me@corp.com:s3cret@proxy:3128", "http://me@corp.com:<redacted>@proxy:3128"],
    ["http://u:p@ss@proxy", "http://u:<redacted>@proxy"],
    ["http://u:p@[::1]:8080/x", "http://u:<redacted>@[::1]:8080/x"],
    // Only the password: the same word as scheme, user or path stays.
    ["postgres://postgres:postgres@db/postgres", "postgres://postgres:<redacted>@db/postgres"],
    // No password: a user alone, a port, an @ in a path or query, no scheme.
    ["http://user@host", "http://user@host"],
    ["http://host:8080/path@x", "http://host:8080/path@x"],
    ["http://h/?to=a:b@c", "http://h/?to=a:b@c"],
    ["user:pass@host", "user:pass@host"],
    // An empty password has nothing to hide.
    ["http://u:@h", "http://u:@h"],
    ["https://:@h/x", "https://:@h/x"],
    // JSON, shell and lists end a URL: an @ further on is not its user information.
    [
      '{"tracking_uri":"http://mlflow:5000","owner":"me@corp.com"}',
      '{"tracking_uri":"http://mlflow:5000","owner":"me@corp.com"}',
    ],
    ['["http://h:5000","x@y"]', '["http://h:5000","x@y"]'],
    ["'http://h:1' x@y", "'http://h:1' x@y"],
    ["http://a:1@h,http://b:2@k", "http://a:<redacted>@h,http://b:<redacted>@k"],
    ['{"u":"http://a:s3@h"}', '{"u":"http://a:<redacted>@h"}'],
  ];
  for (const [text, shown] of cases) equal(hideUrlSecrets(text), shown, text);
});

Deno.test("hideUrlSecrets() hides the value of a query parameter with a secret name, in a URL or a route", () => {
  const cases: [string, string][] = [
    ["/health?api_key=k-123", "/health?api_key=<redacted>"],
    [
      "jdbc:mysql://db/hive?user=hive&password=pw1&useSSL=true",
      "jdbc:mysql://db/hive?user=hive&password=<redacted>&useSSL=true",
    ],
    [
      "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=tok%2F1&X-Amz-Expires=60#f",
      "https://b.s3.amazonaws.com/k?X-Amz-Security-Token=<redacted>&X-Amz-Expires=60#f",
    ],
    ['{"u":"http://h/x?token=t1","v":2}', '{"u":"http://h/x?token=<redacted>","v":2}'],
    // A signed URL's signature: an Azure SAS (the account is the host), S3's or GCS's V2 form.
    [
      "https://acct.blob.core.windows.net/m/a.tgz?sv=2022-11-02&sp=r&sig=AbC%2Fd%3D",
      "https://acct.blob.core.windows.net/m/a.tgz?sv=2022-11-02&sp=r&sig=<redacted>",
    ],
    [
      "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAX&Expires=9&Signature=s1%2B",
      "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAX&Expires=9&Signature=<redacted>",
    ],
    [
      "https://storage.googleapis.com/b/o?X-Goog-Credential=c&X-Goog-Signature=ab12",
      "https://storage.googleapis.com/b/o?X-Goog-Credential=<redacted>&X-Goog-Signature=<redacted>",
    ],
    // Other parameters, and names that only end like a secret's place (_id, _name), stay.
    ["/v1/models?page=2&client_id=abc&key_name=k", "/v1/models?page=2&client_id=abc&key_name=k"],
    ["a=1 b=2", "a=1 b=2"],
  ];
  for (const [text, shown] of cases) equal(hideUrlSecrets(text), shown, text);
});

Deno.test("JSON nested too deep to walk is hidden whole, never a stack overflow; 512 levels are walked", () => {
  const nested = (depth: number) =>
    "[".repeat(depth) + '{"api_key":"k-canary"}' + "]".repeat(depth);
  const deep = nested(2500);
  deepEqual(redactArgs(["python", deep]), ["python", "<redacted>"]);
  deepEqual([...secretsInJson(deep)], [deep]);
  equal(redactJsonText(deep), "<redacted>");
  // Within the limit, only the secret goes.
  const walked = nested(511);
  equal(redactJsonText(walked), walked.replace('"k-canary"', '"<redacted>"'));
  deepEqual([...secretsInJson(walked)], ["k-canary"]);
});

Deno.test("secretFileValue() drops trailing line ends, CRLF ones included", () => {
  const cases: [string, string][] = [
    ["abc\n", "abc"],
    ["abc\r\n", "abc"],
    ["abc\n\r\n\n", "abc"],
    ["abc\r", "abc"],
    ["a\r\nb\n", "a\r\nb"],
    ["abc", "abc"],
  ];
  for (const [text, want] of cases) equal(secretFileValue(text), want, JSON.stringify(text));
});

Deno.test("scrub() hides secrets of MIN_SECRET_LENGTH (4) characters or more, and leaves shorter ones", () => {
  equal(scrub("key=abcd here", ["abcd"]), "key=<redacted> here");
  equal(scrub("key=abc here", ["abc"]), "key=abc here");
});

Deno.test("scrubber() of a long list gives what scrub() gives: list order, overlaps, a secret inside another, one across a <redacted>", () => {
  // Fillers make the list long enough to be indexed; their first characters collide with the
  // secrets' own in places (same first letters, repeated letters).
  const fillers = Array.from(
    { length: 40 },
    (_, i) => `${"bxca"[i % 4]}filler-${i}-${"z".repeat(i % 5)}`,
  );
  const secrets = [
    "bcdefg", // before xabc: in "xabcdefg" it is replaced first, and xabc is then gone
    "xabc",
    "s3cr3t-value",
    "cted>>tail", // only there once s3cr3t-value has been replaced in "s3cr3t-value>tail"
    "3cr3", // inside s3cr3t-value: found only where that is not
    "p\u00e4ss-\u00fcber",
    "aaaa",
    "abc", // shorter than MIN_SECRET_LENGTH: left alone
    ...fillers,
  ];
  const texts = [
    "",
    "abc",
    "xabcdefg",
    "zz s3cr3t-value>tail and 3cr3 alone",
    "aaaaaaa aaaa aaa",
    "p\u00e4ss-\u00fcber at the end p\u00e4ss-\u00fcber",
    "postgres://user:pw1@db:5432/x?token=abc&3cr3",
    `${fillers[7]}${fillers[8]}|${fillers[39]}`,
    "nothing to hide here at all",
    "bcdefg".repeat(50),
  ];
  const hide = scrubber(secrets);
  for (const t of texts) equal(hide(t), scrub(t, secrets), JSON.stringify(t));
  // Tokens that share their first characters, in a long text of others like them.
  const tokens = Array.from({ length: 300 }, (_, i) => `ghp_${(i * 7919 + 104729).toString(36)}q`);
  const many = Array.from({ length: 2000 }, (_, i) => `"k${i}": "ghp_${(i * 31).toString(36)}q"`)
    .join(", ") + ` ${tokens[150]} ${tokens[299]}x ghp_`;
  const hideTokens = scrubber(tokens);
  equal(hideTokens(many), scrub(many, tokens));
  ok(hideTokens(many).endsWith(" <redacted> <redacted>x ghp_"));
  equal(hide("xabcdefg"), "xa<redacted>");
  equal(hide("zz s3cr3t-value>tail and 3cr3 alone"), "zz <reda<redacted> and <redacted> alone");
  equal(hide("aaaaaaa aaaa aaa"), "<redacted>aaa <redacted> aaa");
  equal(hide(`a ${fillers[39]}.`), "a <redacted>.");
});

/** Random texts of the given pieces, the same on every run (a small linear congruential generator). */
function pieceTexts(pieces: readonly string[], count: number): string[] {
  let x = 12345;
  // The high bits: a power-of-two generator's low bits repeat after a few numbers.
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  return Array.from({ length: count }, () => {
    let t = "";
    for (let n = next(14); n > 0; n--) t += pieces[next(pieces.length)];
    return t;
  });
}

Deno.test("scrubber() gives what scrub() gives on 3,000 random texts of overlapping secrets, held ones found in one scan", () => {
  // Secrets of few letters, so that they overlap, hold one another and share their last four.
  let x = 777;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  const word = (min: number, most: number) =>
    Array.from({ length: min + next(most - min + 1) }, () => "abcx"[next(4)]).join("");
  for (let round = 0; round < 30; round++) {
    const secrets = [...new Set(Array.from({ length: 16 + next(20) }, () => word(4, 9)))];
    const pieces = [...secrets, "a", "b", "c", "x", "ab", "ca", " ", "<redacted>"];
    for (const t of pieceTexts(pieces, 100)) {
      equal(scrubber(secrets)(t), scrub(t, secrets), `${JSON.stringify(t)} ${secrets}`);
    }
  }
  // A text holding 4,000 of them, each once (a capture of a file of tokens: 6 s scanned again
  // after each one replaced).
  const tokens = Array.from({ length: 4000 }, (_, i) => `tok-${(i * 7919 + 104729).toString(36)}q`);
  const file = tokens.map((t, i) => `client ${i} uses ${t}`).join("\n");
  const hidden = scrubber(tokens)(file);
  equal(hidden, tokens.map((_, i) => `client ${i} uses <redacted>`).join("\n"));
  // 8,000 that end alike (indexed by their last four characters, each place of the ending in
  // a text was compared with all of them), each in a text of its own and all in one.
  const alike = Array.from({ length: 8000 }, (_, i) => `pw-${i}-prod-2026`);
  const hideAlike = scrubber(alike);
  for (let i = 0; i < 8000; i += 1) equal(hideAlike(`db ${alike[i]} -2026`), "db <redacted> -2026");
  equal(hideAlike(alike.join(" ")), alike.map(() => "<redacted>").join(" "));
});

Deno.test("redactPyValue() gives what asking each value first whether it held a secret gave, on 5,000 random values", () => {
  // The redaction it replaced: whether a value held a secret asked again at every level.
  const holds = (v: PyValue): boolean =>
    typeof v === "string"
      ? redactJsonText(v) !== undefined
      : Array.isArray(v)
      ? v.some(holds)
      : v instanceof Map && [...v].some(([k, x]) => isSecretName(k) || holds(x));
  const old = (v: PyValue): PyValue => {
    if (typeof v === "string") return redactJsonText(v) ?? v;
    if (!holds(v)) return v;
    if (Array.isArray(v)) return v.map(old);
    const out: PyDict = new Map();
    (v as PyDict).forEach((x, k) => out.set(k, isSecretName(k) ? "<redacted>" : old(x)));
    return out;
  };
  let x = 4242;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  const value = (depth: number): PyValue => {
    const pick = next(depth > 4 ? 5 : 8);
    if (pick === 0) return null;
    if (pick === 1) return new PyInt(String(next(100)));
    if (pick === 2) return ["v", "<redacted>", '{"token": "t1"}', '{"a": 1}', "[1]"][next(5)]!;
    if (pick === 3) return true;
    if (pick === 4) return `s${next(10)}`;
    if (pick === 5) return Array.from({ length: next(4) }, () => value(depth + 1));
    const d: PyDict = new Map();
    for (let n = next(4); n > 0; n--) {
      d.set(["a", "b", "password", "api_key", "lr", "nested"][next(6)]!, value(depth + 1));
    }
    return d;
  };
  for (let i = 0; i < 5000; i++) {
    const v = value(0);
    const want = old(v);
    const got = redactPyValue(v);
    equal(pyDumps(got), pyDumps(want), pyDumps(v));
    // The same value when nothing is secret, a new one otherwise: callers compare by identity.
    equal(got === v, want === v, pyDumps(v));
  }
  // A dict 500 deep over 8,000 keys, a password among them (734 ms to plan, asked at each level).
  const bottom: PyDict = new Map(
    Array.from({ length: 8000 }, (_, i) => [`k${i}`, new PyInt(String(i))]),
  );
  bottom.set("password", "pw-canary");
  let deep: PyDict = bottom;
  for (let i = 0; i < 500; i++) deep = new Map([[`d${i}`, deep]]);
  let got = redactPyValue(deep) as PyDict;
  for (let i = 499; i >= 0; i--) got = got.get(`d${i}`) as PyDict;
  equal(got.get("password"), "<redacted>");
  equal((got.get("k7999") as PyInt).text, "7999");
});

Deno.test("hideUrlSecrets() finds each URL where looking from every character did (2,000 random texts)", () => {
  // The patterns as they were tried at every character: the oracle.
  const authority = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#"'`\\{}<>,;|^]+)/g;
  const old = (text: string) =>
    text.includes("://")
      ? text.replace(authority, (whole, scheme: string, auth: string) => {
        const at = auth.lastIndexOf("@");
        const colon = auth.indexOf(":");
        if (at < 0 || colon < 0 || colon + 1 >= at) return whole;
        return scheme + auth.slice(0, colon + 1) + "<redacted>" + auth.slice(at);
      })
      : text;
  const pieces = [
    "http",
    "s3",
    "://",
    "u:pw@",
    "://u:pw@",
    "u",
    ":",
    "@",
    "h",
    "/",
    "9",
    "+",
    ".",
    "-",
    " ",
    '"',
  ];
  for (const t of pieceTexts(pieces, 2000)) {
    // Without ?, & or = the query parameters play no part: the authorities alone compare.
    equal(hideUrlSecrets(t), old(t), JSON.stringify(t));
  }
});

Deno.test("secretsInText() finds each key where looking from every character did (2,000 random texts)", () => {
  // secretsInText() as it was, its key pattern tried at every character: the oracle.
  const key = /(["']?)([A-Za-z_][\w.-]*)\1[ \t]*[:=][ \t]*/g;
  const quoted = /^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*')/;
  const old = (text: string) => {
    const out = new Set<string>();
    for (const m of text.matchAll(key)) {
      if (!isSecretName(m[2]!)) continue;
      const at = m.index! + m[0].length;
      const eol = text.indexOf("\n", at);
      const rest = text.slice(at, eol < 0 ? text.length : eol);
      const q = quoted.exec(rest);
      const values = q !== null
        ? [q[0].slice(1, -1)]
        : [rest.replace(/(?:^|\s)#.*$/, "").trim()].flatMap((
          v,
        ) => [v, v.split(/[,}\]]/)[0]!.trim()]);
      for (const v of values) if (v !== "") out.add(v);
    }
    return out;
  };
  const pieces = [
    "token",
    "db_password",
    "9",
    ".",
    "-",
    "_",
    ":",
    "=",
    " ",
    '"',
    "'",
    "\n",
    "x",
    "#",
    ",",
  ];
  for (const t of pieceTexts(pieces, 2000)) {
    deepEqual(secretsInText(t), old(t), JSON.stringify(t));
  }
});

Deno.test("secretsInJson() reads JSON with NaN and Infinity as reading from every quote did (3,000 random texts)", () => {
  // The oracle: Python's constants replaced with a string pattern tried again at each quote.
  const constants = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;
  const old = (text: string): Set<string> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      try {
        value = JSON.parse(text.replace(constants, (m) => m[0] === '"' ? m : "null"));
      } catch {
        return secretsInText(text);
      }
    }
    return secretsInJson(value);
  };
  // Objects of pairs with Python's constants, strings holding quotes and constants, and now
  // and then a quote or a backslash too many.
  const keys = ['"token"', '"a"', '"NaN"', '"x\\"NaN"'];
  const values = [
    "NaN",
    "-Infinity",
    "Infinity",
    '"s"',
    '"s\\"NaN"',
    "1",
    '[NaN, "b"]',
    '"',
    "\\",
    '"\\"',
  ];
  const pairs = pieceTexts(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], 3000);
  let parsed = 0;
  for (const digits of pairs) {
    const t = "{" +
      [...digits].map((d, i) => `${keys[(Number(d) + i) % 4]}: ${values[Number(d)]}`).join(", ") +
      "}";
    deepEqual(secretsInJson(t), old(t), JSON.stringify(t));
    if (redactJsonText(t) !== undefined) parsed++;
  }
  const pieces = [
    '"',
    '\\"',
    "\\",
    "NaN",
    "-Infinity",
    "Infinity",
    '"token":',
    ":",
    ",",
    "[",
    "1",
    "\n",
  ];
  for (const t of pieceTexts(pieces, 3000).map((t) => '["' + t)) {
    deepEqual(secretsInJson(t), old(t), t);
  }
  ok(parsed > 0, "some texts hold a secret-named key and parse");
});

Deno.test("secretsInJson() reads a cut-off JSON-in-JSON value of 100,000 escaped quotes as text", () => {
  const cut = '{"token": "abcd", "inner": "' + '\\"'.repeat(50_000);
  deepEqual([...secretsInJson(cut)], ["abcd"]);
  deepEqual([...secretsInJson(cut + "\\")], ["abcd"]);
});

Deno.test("hideUrlSecrets() and secretsInText() read a 1,000,000-character token beside a URL or a key", () => {
  const token = "ab12".repeat(250_000);
  equal(
    hideUrlSecrets(`see http://u:pw@h/x and ${token} or 9${token}://u:pw@h`),
    `see http://u:<redacted>@h/x and ${token} or 9${token}://u:<redacted>@h`,
  );
  deepEqual([...secretsInText(`db_password: hunter22\nblob: ${token}\n-api_token=${token}x`)], [
    "hunter22",
    `${token}x`,
  ]);
});

Deno.test("redactArgs() with 500 known secrets hides each in 5,000 words, and leaves the other words", () => {
  const secrets = Array.from({ length: 500 }, (_, i) => `tok-${i}-${(i * 7919).toString(36)}`);
  const words = Array.from(
    { length: 5000 },
    (_, i) =>
      i % 10 === 0 ? secrets[i / 10]! : i % 10 === 1 ? `--x=${secrets[(i - 1) / 10]!}` : `word${i}`,
  );
  const out = redactArgs(words, secrets);
  equal(out.length, 5000);
  for (let i = 0; i < 5000; i++) {
    const want = i % 10 === 0 ? "<redacted>" : i % 10 === 1 ? "--x=<redacted>" : `word${i}`;
    equal(out[i], want, `word ${i}`);
  }
});

Deno.test("hiddenEverywhere() leaves plain words alone in any case, and hides other values", () => {
  const cases: [string, boolean][] = [
    ["false", false],
    ["False", false],
    ["TRUE", false],
    ["None", false],
    ["", false],
    ["s3cret", true],
    // Short numbers (a token count, a port, a uid) are everywhere in a system's files.
    ["1024", false],
    ["-1", false],
    ["1234567", false],
    ["12345678", true],
    ["1024a", true],
    ["0.0001", true],
  ];
  for (const [value, want] of cases) equal(hiddenEverywhere(value), want, value);
});

Deno.test("secretsInJson() takes numbers under secret-named keys as well as strings", () => {
  deepEqual([...secretsInJson({ api_key: 12345, pin: 7, token: "t-1" })].sort(), ["12345", "t-1"]);
  deepEqual([...secretsInJson('{"password": 4242}')], ["4242"]);
});

Deno.test("JSON text after leading whitespace is still looked into for secrets", () => {
  const text = ' \n\t{"api_key": "k-lead"}';
  deepEqual([...secretsInJson(text)], ["k-lead"]);
  equal(redactJsonText(text), '{"api_key":"<redacted>"}');
});

Deno.test("JSON text with Python's NaN, Infinity and -Infinity still gives the secrets after them", () => {
  for (const special of ["NaN", "Infinity", "-Infinity"]) {
    const text = `[${special}, {"api_key": "k-after"}]`;
    deepEqual([...secretsInJson(text)], ["k-after"], special);
    equal(redactJsonText(text), '[null,{"api_key":"<redacted>"}]', special);
  }
});

Deno.test("JSON nested one level over the limit (513) is hidden whole, however short", () => {
  const over = "[".repeat(513) + "]".repeat(513);
  equal(redactJsonText(over), "<redacted>");
  deepEqual([...secretsInJson(over)], [over]);
  const at = "[".repeat(512) + "]".repeat(512);
  equal(redactJsonText(at), undefined, "512 levels are walked: no secret-named key, no change");
  deepEqual([...secretsInJson(at)], []);
});

Deno.test("a secret flag's value is taken when the flag is the first word, and when it is a number", () => {
  deepEqual(redactArgs(["--api-key", "abc"]), ["--api-key", "<redacted>"]);
  deepEqual([...secretsInJson(["--api-key", 123456])], ["123456"]);
});

Deno.test("secretsInArgs() takes values of secret-named JSON keys only, never a flag's value, never an empty one", () => {
  deepEqual(
    [
      ...secretsInArgs([
        "--max-new-tokens",
        "1000",
        "--token=abcd",
        '{"api_key": ""}',
        '{"api_key": "k-json"}',
        '["--max-new-tokens", "2000"]',
      ]),
    ],
    ["k-json"],
  );
});

Deno.test("redactJsonText() replaces only the values under secret-named keys", () => {
  equal(redactJsonText('{"user":"me","password":"pw"}'), '{"user":"me","password":"<redacted>"}');
});

Deno.test("secretForms() gives no form of an empty value or a plain word, and doubles every quote for YAML", () => {
  deepEqual(secretForms(["false", "", "No"]), []);
  ok(secretForms(["a'b'c"]).includes("a''b''c"));
});

Deno.test("hiddenEverywhere() knows every plain word", () => {
  for (const w of ["true", "false", "null", "none", "yes", "no", "on", "off"]) {
    equal(hiddenEverywhere(w), false, w);
  }
});

Deno.test("hideUrlSecrets() reads schemes with digits, at the end too", () => {
  equal(
    hideUrlSecrets("s3a://key:pw-1@bucket/p jdbc:db2://u:pw-2@h:50000/db"),
    "s3a://key:<redacted>@bucket/p jdbc:db2://u:<redacted>@h:50000/db",
  );
});

Deno.test("scrubDeep() scrubs every string inside arrays and objects, and leaves keys, numbers and null", () => {
  deepEqual(
    scrubDeep({ tok1234: ["a tok1234 b", 1234, null, { x: "tok1234" }], n: true }, ["tok1234"]),
    { tok1234: ["a <redacted> b", 1234, null, { x: "<redacted>" }], n: true },
  );
});

Deno.test("scrubDeep() copies only what it scrubs, and leaves its input as it was", () => {
  const clean = { a: ["x", 1], b: { c: "y" } };
  equal(scrubDeep(clean, ["tok1234"]), clean);
  const dirty = { a: ["x", "tok1234"], b: { c: "y" } };
  const out = scrubDeep(dirty, ["tok1234"]);
  deepEqual(out, { a: ["x", "<redacted>"], b: { c: "y" } });
  deepEqual(dirty, { a: ["x", "tok1234"], b: { c: "y" } });
  equal(out.b, dirty.b);
});

Deno.test("mayQuoteAt() refuses a value under a secret-named key, a command word, and a command string with a secret flag", () => {
  equal(mayQuoteAt(["env", "set", "DB_PASSWORD"]), false);
  equal(mayQuoteAt(["env", "set", "DB_HOST"]), true);
  equal(mayQuoteAt(["env", 3]), true);
  equal(mayQuoteAt(["commands", "training", "argv", 3], "x"), false);
  equal(mayQuoteAt(["commands", "training", "argv"], "python train.py --token x"), false);
  equal(mayQuoteAt(["commands", "training", "argv"], "python train.py"), true);
  equal(mayQuoteAt(["commands", "training", "argv"], ["python"]), true);
  equal(mayQuoteAt(["commands", "training", "cwd"], "--token x"), true);
});

Deno.test("hiddenEverywhere() leaves the context's vocabulary alone: platform and workload names", () => {
  for (const w of ["local", "sagemaker", "aws-batch", "training", "Unknown"]) {
    equal(hiddenEverywhere(w), false, w);
  }
  equal(hiddenEverywhere("local-pass"), true);
});

Deno.test("a flag's joined value is hidden whole, across line ends too", () => {
  deepEqual(redactArgs(["--api-key=line1\nline2"]), ["--api-key=<redacted>"]);
  deepEqual(redactArgs(["API_TOKEN=line1\nline2"]), ["API_TOKEN=<redacted>"]);
});

Deno.test("isSecretProperty() knows an Azure storage SAS token named by its container", () => {
  equal(isSecretProperty("spark.hadoop.fs.azure.sas.data.acct.blob.core.windows.net"), true);
  equal(isSecretProperty("spark.hadoop.fs.azure.account.auth.type"), false);
});

Deno.test("mayQuoteAt() refuses a value anywhere below a secret-named key", () => {
  equal(mayQuoteAt(["hyperparameters", "credentials", "user"]), false);
  equal(mayQuoteAt(["hyperparameters", "model", "name"]), true);
});

Deno.test("a secret flag takes a value with one dash, not another long flag", () => {
  deepEqual(redactArgs(["--token", "-Zq9x", "--epochs", "3"]), [
    "--token",
    "<redacted>",
    "--epochs",
    "3",
  ]);
  deepEqual(redactArgs(["--use_auth_token", "--model", "m"]), ["--use_auth_token", "--model", "m"]);
});

Deno.test("JSON with Python's NaN keeps NaN and Infinity inside its strings as written", () => {
  deepEqual([...secretsInJson('[NaN, {"api_key": "Infinity-NaN-42"}]')], ["Infinity-NaN-42"]);
});

Deno.test("hideUrlSecrets() hides a secret-named parameter of a query given without its ?", () => {
  equal(hideUrlSecrets("user=hive&password=pw1&ssl=1"), "user=hive&password=<redacted>&ssl=1");
});

Deno.test("hideUrlSecrets() ends a URL's authority at each character JSON, shell and lists put around one", () => {
  for (
    const c of ['"', "'", "`", "\\", "{", "}", "<", ">", ",", ";", "|", "^", "/", "?", "#", " "]
  ) {
    const text = `http://h:5000${c}me@corp.com`;
    equal(hideUrlSecrets(text), text, JSON.stringify(c));
  }
});

Deno.test("hideUrlSecrets() ends a secret parameter's value at each character that ends it in a URL or around one", () => {
  for (const c of ["&", "#", '"', "'", "`", "\\", "{", "}", "<", ">", ",", ";", "|", "^", " "]) {
    equal(hideUrlSecrets(`/x?token=abc${c}rest`), `/x?token=<redacted>${c}rest`, JSON.stringify(c));
  }
});

Deno.test("mayQuoteAt() splits a command string at any blank: a secret flag after a line end or a tab counts", () => {
  equal(mayQuoteAt(["commands", "training", "argv"], "python t.py\n--token x"), false);
  equal(mayQuoteAt(["commands", "training", "argv"], "python t.py --token\tx"), false);
});

Deno.test("a flag named key alone is no secret flag: only a name ending in _key is", () => {
  deepEqual(redactArgs(["--key", "data/train.csv", "-key", "k2"]), [
    "--key",
    "data/train.csv",
    "-key",
    "k2",
  ]);
  deepEqual(redactArgs(["--api-key", "k3"]), ["--api-key", "<redacted>"]);
});

Deno.test("redactJsonText() hides a secret in JSON held in a JSON string, a short number too (hidden nowhere else)", () => {
  const text = JSON.stringify({ db: JSON.stringify({ password: 4321, host: "h" }), n: 1 });
  equal(
    redactJsonText(text),
    '{"db":"{\\"password\\":\\"<redacted>\\",\\"host\\":\\"h\\"}","n":1}',
  );
  equal(redactJsonText(JSON.stringify({ db: '{"host": "h"}' })), undefined);
});

Deno.test("secretsInText() takes only the secret of a pair inside a Python repr or a one-line flow, not the pairs after it", () => {
  // A list-valued hyperparameter in SM_USER_ARGS, as the toolkit writes it (str() of the list).
  const repr = "[{'token': 98765432, 'lr': 0.1, 'name': 'run-a'}, {'api_key': None, 'x': 1}]";
  deepEqual([...secretsInText(repr)], ["98765432", "None"]);
  const args = JSON.stringify(["--cfg", repr, "--epochs", "3"]);
  equal(
    scrub(args, secretForms(secretsInJson(args))),
    JSON.stringify([
      "--cfg",
      "[{'token': <redacted>, 'lr': 0.1, 'name': 'run-a'}, {'api_key': None, 'x': 1}]",
      "--epochs",
      "3",
    ]),
  );
  deepEqual([...secretsInText("{password: abc1234, user: me}")], ["abc1234"]);
  // Outside brackets a comma may be the value's (a YAML plain scalar): the line's rest too.
  deepEqual([...secretsInText("password: a1,b2 # why\nuser: me")], ["a1,b2", "a1"]);
  // A bracket inside a quoted string before the key opens nothing.
  deepEqual([...secretsInText("name: '[x', password: abcd, y")], ["abcd, y", "abcd"]);
});

Deno.test("secretsInText() finds a Python repr string that escapes its quote (one holding both quotes)", () => {
  const repr = `{'token': 'ab\\'cd"ef', 'lr': 0.1}`;
  ok(secretsInText(repr).has(`ab\\'cd"ef`), [...secretsInText(repr)].join(" | "));
  equal(
    scrub(repr, secretForms(secretsInText(repr))),
    "{'token': '<redacted>', 'lr': 0.1}",
  );
});

Deno.test("scrub() finds a secret escaped three times or more (JSON in a string of JSON in a JSON string, in YAML or a JSON copy)", () => {
  // As JSON.stringify writes each level, and as Python's json.dumps does (non-ASCII as \\uXXXX).
  const dump = (v: unknown, ascii: boolean) => {
    const text = JSON.stringify(v);
    return ascii
      ? text.replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      )
      : text;
  };
  const cases: [string, string][] = [
    ['se"cret-xyz', "cret"],
    ["back\\slash", "slash"],
    ["line\nend", "line"],
    ["caf\u00e9-pw", "-pw"],
  ];
  // A list long enough for scrubber() to index it finds the deeper forms too.
  const fillers = Array.from({ length: 20 }, (_, i) => `filler-${i}-zzzz`);
  for (const [secret, part] of cases) {
    const forms = secretForms([secret]);
    const long = [...forms, ...fillers];
    const hideLong = scrubber(long);
    for (const ascii of [false, true]) {
      let text = secret;
      for (let level = 1; level <= 8; level++) {
        text = dump({ p: text }, ascii);
        const scrubbed = scrub(text, forms);
        equal(hideLong(text), scrub(text, long), `scrubber() at level ${level}`);
        equal(
          scrubbed.includes(part) || !scrubbed.includes(REDACTED),
          false,
          `${JSON.stringify(secret)} at level ${level}: ${scrubbed}`,
        );
        // What stands around it stays: only the secret's own text is replaced.
        ok(scrubbed.startsWith('{"p":'), scrubbed);
      }
    }
  }
  // A text without a secret is left as it is, however many backslashes it holds.
  const plain = "\\".repeat(10_000) + '"x"';
  equal(scrub(plain, secretForms(['se"cret-xyz'])), plain);
});

Deno.test("hideSecretPairs() hides a secret-named pair's value where it stands, however short, and leaves the text parsing as it did", () => {
  equal(
    hideSecretPairs(
      'env:\n  set:\n    DB_PASSWORD: xQ9 # short\n    API_TOKEN: "k7"\n    USER: me\n',
    ),
    'env:\n  set:\n    DB_PASSWORD: <redacted> # short\n    API_TOKEN: "<redacted>"\n    USER: me\n',
  );
  equal(hideSecretPairs("cfg: {password: ab, user: me}"), "cfg: {password: <redacted>, user: me}");
  equal(hideSecretPairs("API_KEY=z1\nOTHER=1"), "API_KEY=<redacted>\nOTHER=1");
  equal(hideSecretPairs("secret: 'it''s'"), "secret: '<redacted>'");
  // A flow written over several lines: the comma ending a pair's line parts it from the next.
  equal(
    hideSecretPairs("set: {\n  password: ab,\n  user: me\n}"),
    "set: {\n  password: <redacted>,\n  user: me\n}",
  );
  // Inside a quoted string, a value quoted otherwise is still its own.
  equal(hideSecretPairs(`APP: '{"password": "ab"}'`), `APP: '{"password": "<redacted>"}'`);
  // A block scalar's header, a collection, an empty value or an open quote: left to the scrubbing.
  for (
    const text of [
      "KEY_PASSWORD: |\n  line\n",
      "creds_token: >-\n  a\n",
      "password: {a: b}",
      "password:\nuser: me",
      'password: "open\n  more"',
      '  - "${NB_PREFIX:+--ServerApp.token=}",',
      "password: it's}",
    ]
  ) {
    equal(hideSecretPairs(text), text);
  }
  // A closing bracket in the line's rest: its part before it, where a flow over several lines
  // ends its last pair (a plain scalar holding one keeps its start hidden, the text its shape).
  equal(
    hideSecretPairs('set: {A: "1",\n  DB_PASSWORD: xQ9}\n'),
    'set: {A: "1",\n  DB_PASSWORD: <redacted>}\n',
  );
  equal(hideSecretPairs("x: [a,\n  {token: k7}]\n"), "x: [a,\n  {token: <redacted>}]\n");
  equal(hideSecretPairs("password: a}b"), "password: <redacted>}b");
});

Deno.test("secretForms() gives a secret's JSON-escaped forms as a single-quoted YAML scalar holds them too", () => {
  const secret = `it's"pw-x`;
  const inYaml = (json: string) => `B: '${json.replaceAll("'", "''")}'`;
  const once = JSON.stringify({ password: secret });
  const twice = JSON.stringify({ x: once });
  const thrice = JSON.stringify({ y: twice });
  for (const json of [once, twice, thrice]) {
    const scrubbed = scrub(inYaml(json), secretForms([secret]));
    equal(scrubbed.includes("pw-x"), false, scrubbed);
  }
});

/**
 * Each secret-named pair's values and place as secretPairs() read them when each unquoted value
 * was read again from its pair (the oracle), with where the pair's key and value start.
 */
function pairsReadAgain(text: string) {
  const key = /(?:(["'])|(?<![\w.-])[0-9.-]*)([A-Za-z_][\w.-]*)\1[ \t]*[:=][ \t]*/g;
  const quotes = [/"(?:[^"\\\n]|\\.)*"/y, /'(?:[^'\n]|'')*'/y, /'(?:[^'\\\n]|\\.)*'/y];
  const flowValue = /[^,}\]\n]*/y;
  const lineRest = /[^\n]*/y;
  const notAScalar = /^(?:$|[|>][-+1-9]*$|[[{&*!'"])/;
  // FlowDepth as it is, read character by character.
  let pos = 0, depth = 0, quote = "";
  const depthAt = (index: number) => {
    for (; pos < index; pos++) {
      const c = text[pos]!;
      if (c === "\n") [depth, quote] = [0, ""];
      else if (quote !== "") {
        if (c === "\\" && text[pos + 1] !== "\n") pos++;
        else if (c === quote) quote = "";
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "{" || c === "[") depth++;
      else if ((c === "}" || c === "]") && depth > 0) depth--;
    }
    return depth;
  };
  const out: {
    key: number;
    at: number;
    kind: "quoted" | "flow" | "line";
    values: string[];
    place: [number, number] | undefined;
  }[] = [];
  for (const m of text.matchAll(key)) {
    if (!isSecretName(m[2]!)) continue;
    const at = m.index! + m[0].length;
    const quoted = quotes.map((q) => {
      q.lastIndex = at;
      return q.exec(text)?.[0];
    }).filter((q) => q !== undefined);
    const open = depthAt(m.index!);
    const enclosing = quote;
    const pair = { key: m.index!, at };
    if (quoted.length > 0) {
      const longest = quoted.reduce((a, b) => b.length > a.length ? b : a);
      out.push({
        ...pair,
        kind: "quoted",
        values: quoted.map((q) => q.slice(1, -1)),
        place: longest[0] === enclosing ? undefined : [at + 1, at + longest.length - 1],
      });
    } else if (open > 0) {
      flowValue.lastIndex = at;
      const value = flowValue.exec(text)![0].trimEnd();
      const scalar = enclosing === "" && !notAScalar.test(value);
      out.push({
        ...pair,
        kind: "flow",
        values: [value],
        place: scalar ? [at, at + value.length] : undefined,
      });
    } else {
      lineRest.lastIndex = at;
      const whole = lineRest.exec(text)![0].replace(/(?:^|\s)#.*$/, "").trimEnd();
      // A comma ending the line stays out of the place (the flow-over-lines fix, 1809338).
      const own = whole.replace(/\s*,$/, "");
      const plain = enclosing === "" && !notAScalar.test(own);
      // With a quote or closing bracket: its part before the first comma or closing bracket,
      // when that holds no quote (the last pair of a flow over several lines).
      const before = own.split(/[,}\]]/)[0]!;
      const place: [number, number] | undefined = !plain
        ? undefined
        : !/["'}\]]/.test(own)
        ? [at, at + own.length]
        : before.length < own.length && !/["']/.test(before)
        ? [at, at + before.replace(/\s+$/, "").length]
        : undefined;
      out.push({ ...pair, kind: "line", values: [whole, whole.split(/[,}\]]/)[0]!.trim()], place });
    }
  }
  return out;
}

/**
 * The values of {@linkcode pairsReadAgain}, an unquoted one whose key an earlier pair's value
 * holds cut where the next secret-named key starts: what secretsInText() gives.
 */
function valuesCutAtNextKey(text: string): string[] {
  const pairs = pairsReadAgain(text);
  const out = new Set<string>();
  let held = -1;
  pairs.forEach((p, i) => {
    // The value's extent: the quoted string, or the first value (the whole one).
    const extent = p.kind === "quoted"
      ? text.indexOf(p.values.reduce((a, b) => b.length > a.length ? b : a), p.at + 1) +
        Math.max(...p.values.map((v) => v.length)) + 1
      : p.at + p.values[0]!.length;
    let values = p.values;
    const next = pairs[i + 1]?.key ?? Infinity;
    if (p.kind !== "quoted" && p.key < held && next < extent) {
      const cut = p.values[0]!.slice(0, next - p.at).trimEnd();
      values = p.kind === "flow" ? [cut] : [cut, cut.split(/[,}\]]/)[0]!.trim()];
    }
    held = Math.max(held, extent);
    for (const v of values) if (v !== "") out.add(v);
  });
  return [...out];
}

Deno.test("secretsInText() and hideSecretPairs() read pairs as reading each value again did, a value inside another cut at the next key (6,000 random texts)", () => {
  // Every character the value ends and comment cuts depend on: each blank \s knows (and U+180E,
  // which it does not), line breaks a comment's .* stops at, quotes, brackets and separators.
  const pieces = [
    "password",
    "token",
    "password=",
    "token: ",
    "a=",
    "a",
    "9",
    "=",
    ": ",
    " ",
    "\t",
    "  ",
    "#",
    " #c",
    "\r",
    "\v",
    "\u00a0",
    "\u2028",
    "\u2029",
    "\u3000",
    "\ufeff",
    "\u180e",
    "\n",
    '"',
    "'",
    "''",
    "\\",
    "{",
    "[",
    "}",
    "]",
    ",",
    "|",
    ">",
    "-",
    "&",
  ];
  let x = 777;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  let cut = 0;
  for (let k = 0; k < 6000; k++) {
    let t = "";
    for (let n = next(60); n > 0; n--) t += pieces[next(pieces.length)];
    const pairs = pairsReadAgain(t);
    const expected = valuesCutAtNextKey(t);
    const all = new Set(pairs.flatMap((p) => p.values).filter((v) => v !== ""));
    if (expected.some((v) => !all.has(v))) cut++;
    deepEqual([...secretsInText(t)], expected, JSON.stringify(t));
    // Where each value stands is as it was.
    let hidden = "", copied = 0;
    for (const { place } of pairs) {
      if (place === undefined || place[0] < copied || place[0] === place[1]) continue;
      hidden += t.slice(copied, place[0]) + REDACTED;
      copied = place[1];
    }
    equal(hideSecretPairs(t), copied === 0 ? t : hidden + t.slice(copied), JSON.stringify(t));
  }
  // The texts hold values cut at a next key, and values left whole.
  ok(cut > 300 && cut < 5700, `${cut} texts with a cut value`);
});

Deno.test("secretsInText() reads a line of 20,000 pairs as its first value and each pair's own, in brackets and out", () => {
  for (
    const [unit, open, rest] of [["password=x1 ", "", "  # note"], ["password: x1 ", "{", "}"]]
  ) {
    const line = open! + unit!.repeat(20_000);
    const values = [...secretsInText(`${line}${rest}\nnext: line`)];
    // The line's rest from the first pair (without the comment or the bracket, and trailing
    // blanks), then the value of each pair inside it, up to the next key.
    equal(values.length, 2);
    ok(values[0] === line.slice(open!.length + unit!.length - 3).trimEnd(), "the first value");
    equal(values[1], "x1");
    equal(hideSecretPairs(line), open + unit!.slice(0, -3) + REDACTED + " ");
  }
  // Each value of its own, when the pairs' values differ.
  const pairs = Array.from({ length: 20_000 }, (_, i) => `token=v${i}`);
  const values = [...secretsInText(pairs.join(" "))];
  equal(values.length, 20_000);
  equal(values[1], "v1");
  equal(values.at(-1), "v19999");
});

Deno.test("secretsInText() ends a value inside an earlier one on its line where the next secret-named key starts", () => {
  deepEqual([...secretsInText("a_token=x1 b_token=x2, c_token=x3 user=me # c")], [
    "x1 b_token=x2, c_token=x3 user=me",
    "x1 b_token=x2",
    "x2,",
    "x2",
    "x3 user=me",
  ]);
  // After a quoted value's end, a key is not inside it.
  deepEqual([...secretsInText(`password="a"token=b password=c`)], ["a", "b password=c", "c"]);
  deepEqual([...secretsInText("{password: x1 token: x2 token: x3}")], [
    "x1 token: x2 token: x3",
    "x2",
    "x3",
  ]);
});

Deno.test("secretFileValue() drops trailing line ends as /[\\r\\n]+$/ did (4,000 random texts), and reads 100,000 inner ones", () => {
  let x = 5;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) % n;
  for (let k = 0; k < 4000; k++) {
    let t = "";
    for (let n = next(10); n > 0; n--) t += ["\n", "\r", "a", " ", "\u2028"][next(5)];
    equal(secretFileValue(t), t.replace(/[\r\n]+$/, ""), JSON.stringify(t));
  }
  const inner = "a" + "\r\n".repeat(100_000) + "b";
  equal(secretFileValue(inner + "\n\r\n"), inner);
});

Deno.test("secretsInText() trims and cuts comments at every code unit \\s knows, and at no other (all 65,536)", () => {
  for (let c = 0; c <= 0xffff; c++) {
    const ch = String.fromCharCode(c);
    const t = `password=a${ch}b${ch}${ch}#c, d${ch}`;
    deepEqual([...secretsInText(t)], valuesCutAtNextKey(t), `U+${c.toString(16)}`);
  }
});
