/**
 * A process-wide registry of secret values (passwords, tokens). Every line mailkeep writes to
 * stdout or stderr, logs included, passes through scrubSecrets(), so a secret that slipped into
 * a message (an error text from a library, say) is still never shown.
 *
 * Path-based redaction in the logger is the first line of defence; this is the second.
 */
const secrets = new Set<string>()
let pattern: RegExp | undefined

/** Shorter values would mangle ordinary words; they are still redacted by key in the logger. */
const MIN_SCRUB_LENGTH = 3

export const REDACTED = '[REDACTED]'

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
  if (changed) pattern = undefined
}

export function scrubSecrets(text: string): string {
  if (secrets.size === 0) return text
  if (pattern === undefined) {
    // Longest first so that a secret containing another is replaced whole.
    const alternatives = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp)
    pattern = new RegExp(alternatives.join('|'), 'g')
  }
  return text.replace(pattern, REDACTED)
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear()
  pattern = undefined
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
