// What an error message may quote from a config line. A wg-quick file and a UAPI request carry
// private and preshared keys, and a misplaced key (a line without '=', a key in the wrong field, a
// key split over two lines) lands wherever the parser next echoes text. So no parser echoes raw
// text: a value goes through showValue, a key name through showKeyName, and a known key name is
// matched by leadingKeyName. Each says "not shown" rather than risk quoting a secret.

/**
 * A run of this many characters of the base64 (and hex) alphabet can be a piece of a key (a key is
 * 44 base64 or 64 hex characters): 16 of them are 96 bits. No value a parser reports needs one:
 * IPv4 and IPv6 text, ports, prefixes and table names have none, and DNS labels rarely do.
 */
const KEY_LIKE_RUN = /[A-Za-z0-9+/]{16}/;
/** Longer values are described, not quoted: an error line stays one line. */
const MAX_SHOWN = 64;

/** `'value'` when it cannot carry a key, else a description of it that quotes nothing. */
export function showValue(value: string): string {
  if (value.length <= MAX_SHOWN && !KEY_LIKE_RUN.test(value)) return `'${value}'`;
  return `a value of ${value.length} characters (not shown: it may hold a key)`;
}

/** Levenshtein distance, case-insensitive; names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitute = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      row.push(Math.min(substitute, (previous[j] as number) + 1, (row[j - 1] as number) + 1));
    }
    previous = row;
  }
  return previous[y.length] as number;
}

/**
 * Whether the key of an unknown `name = …` line may be shown. A name within two edits of a known
 * one is a typo: `name` is set, with the name `meant`. Anything else is not to be shown (both
 * undefined), since the text before '=' may be a key itself (a bare base64 key ends in '=') or the
 * tail of one wrapped onto the next line.
 */
export function showKeyName(name: string, known: readonly string[]): { name?: string; meant?: string } {
  let meant: string | undefined;
  let best = 3;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < best) {
      best = d;
      meant = candidate;
    }
  }
  if (meant !== undefined && /^[A-Za-z_]{1,32}$/.test(name)) return { name, meant };
  return {};
}

/** The known key name a line without '=' starts with ("PrivateKey <key>" → PrivateKey), if any. */
export function leadingKeyName(line: string, known: readonly string[]): string | undefined {
  const word = /^([A-Za-z_]+)(?=[\s:]|$)/.exec(line)?.[1];
  if (word === undefined) return undefined;
  return known.find((name) => name.toLowerCase() === word.toLowerCase());
}

/**
 * Base64 keys (44 characters ending in '=') and hex keys (64 digits), wherever they stand (glued to
 * `--psk=` or inside a longer token too: redacting a little more is harmless).
 */
const KEY_TOKEN = /[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=|[0-9a-fA-F]{64}/g;

/**
 * `text` with everything key-shaped replaced by `replacement`: for free text that may carry a key
 * on purpose (a PostUp command such as `wg set %i private-key <(echo …)`) whenever it is printed.
 */
export function redactKeys(text: string, replacement = '(redacted)'): string {
  return text.replace(KEY_TOKEN, replacement);
}
