/**
 * The secret values of this process (passwords, tokens), and the two ways text is cleaned of
 * them. mailkeep keeps secrets out of what it prints by structure first:
 *
 *   - messages are built from our own words and values known not to be secret (errors never
 *     interpolate a password; config errors describe a value by its type);
 *   - the fields that carry secrets are removed by key (the logger's redact paths);
 *   - the protocol lines that carry them are cut (LOGIN and AUTHENTICATE arguments, SASL data:
 *     src/imap/flow-logger.ts).
 *
 * Removing a secret *by value* as well is a second line of defence, and it must not garble our
 * own text: a password such as `pass`, `mail` or `password` is also a word of our messages
 * ("check the user name and password"), and replacing it there both mangles the message and
 * tells the reader the password. So a value is removed:
 *
 *   - from **foreign text** (a server's answer, a library's error message, a stack trace, a
 *     protocol line), where mailkeep's words are not: scrubForeign(), at the point where such
 *     text enters a message or a log line. A value that could be a word is removed only where it
 *     stands as a whole word there, so that `mail` leaves `mailbox` alone;
 *   - from **all output**, the last pass before stdout and stderr: scrubOutput(), and only the
 *     values that cannot be a word of our own text (`distinctive()`: long enough, and not a
 *     plain word or number), wherever they occur.
 */
const secrets = new Set<string>()
/** Built on first use after a change; null when there is nothing to replace. */
let distinctivePattern: RegExp | null | undefined
let foreignPattern: RegExp | null | undefined

export const REDACTED = '[REDACTED]'

/** Shorter values are everywhere in ordinary text; they are still removed by key and structure. */
const MIN_SCRUB_LENGTH = 3
/** A value at least this long that is not a plain word or number cannot be a word of ours. */
const MIN_DISTINCTIVE_LENGTH = 6

export function registerSecret(value: string | undefined | null): void {
  if (value === undefined || value === null || value.length < MIN_SCRUB_LENGTH) return
  const forms = [value, JSON.stringify(value).slice(1, -1)]
  let changed = false
  for (const form of forms) {
    if (!secrets.has(form)) {
      secrets.add(form)
      changed = true
    }
  }
  if (changed) {
    distinctivePattern = undefined
    foreignPattern = undefined
  }
}

/**
 * Whether a value cannot be a word of mailkeep's own text: at least 6 characters, and not only
 * letters (with inner hyphens or apostrophes: `read-only`), nor only digits (`0600`, `993`).
 * `hunter22`, `Tr0ub4dor&3` and `correct horse battery` are distinctive; `password`, `secret`
 * and `Mailbox` are not.
 */
export function distinctive(value: string): boolean {
  if (value.length < MIN_DISTINCTIVE_LENGTH) return false
  return !/^\p{L}+(?:['-]\p{L}+)*$/u.test(value) && !/^\p{N}+$/u.test(value)
}

/** The last pass over all output: removes the distinctive secrets wherever they occur. */
export function scrubOutput(text: string): string {
  if (secrets.size === 0) return text
  if (distinctivePattern === undefined) distinctivePattern = alternation([...secrets].filter(distinctive), false)
  return distinctivePattern === null ? text : text.replace(distinctivePattern, REDACTED)
}

/**
 * Foreign text (a server's words, a library's error, a stack trace): removes every secret, also
 * `extra` ones (a connection's own password and its SASL encoding), distinctive ones wherever
 * they occur, the others where they stand as a whole word (not next to a letter or digit).
 */
export function scrubForeign(text: string, extra: readonly string[] = []): string {
  if (secrets.size === 0 && extra.length === 0) return text
  let pattern: RegExp | null
  if (extra.length === 0) {
    if (foreignPattern === undefined) foreignPattern = foreignAlternation([...secrets])
    pattern = foreignPattern
  } else {
    pattern = foreignAlternation([...secrets, ...extra.filter((v) => v.length > 0)])
  }
  return pattern === null ? text : text.replace(pattern, REDACTED)
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear()
  distinctivePattern = undefined
  foreignPattern = undefined
}

function foreignAlternation(values: readonly string[]): RegExp | null {
  const loose = values.filter(distinctive)
  const whole = values.filter((v) => !distinctive(v))
  const parts = [alternation(loose, false), alternation(whole, true)].filter((p): p is RegExp => p !== null)
  if (parts.length === 0) return null
  // Distinctive ones first: a longer secret that contains a word-like one is replaced whole.
  return new RegExp(parts.map((p) => `(?:${p.source})`).join('|'), 'gu')
}

/** One pattern for all values, longest first so that a secret containing another goes whole. */
function alternation(values: readonly string[], wholeWord: boolean): RegExp | null {
  if (values.length === 0) return null
  const body = [...new Set(values)].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')
  return new RegExp(wholeWord ? `(?<![\\p{L}\\p{N}])(?:${body})(?![\\p{L}\\p{N}])` : body, 'gu')
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
