/**
 * Flags as stored in `.imap` files (imap-backup's form): system flags without the backslash
 * (`\Seen` → `Seen`), keywords as they are (`$Forwarded`). RFC 3501 §2.3.2.
 *
 * `\Recent` is not stored: it describes one IMAP session, not the message (RFC 3501 §2.3.2), and
 * imap-backup's tests already ignore it.
 */
const SYSTEM_FLAGS = ['Seen', 'Answered', 'Flagged', 'Deleted', 'Draft'] as const
const SYSTEM_BY_LOWER = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]))

const interned = new Map<string, string[]>()
const MAX_INTERNED = 4096
const EMPTY: string[] = Object.freeze([]) as unknown as string[]

/**
 * One shared, frozen array per distinct flag list: a 160,000-message folder has a handful of
 * distinct lists, and one array per message would cost ~50 bytes each. Frozen, so that nothing
 * can change the flags of every message sharing it by mistake.
 */
export function internFlags(flags: readonly string[]): string[] {
  if (flags.length === 0) return EMPTY
  const key = flags.join('\u0000')
  let shared = interned.get(key)
  if (shared === undefined) {
    shared = Object.freeze([...flags]) as unknown as string[]
    if (interned.size < MAX_INTERNED) interned.set(key, shared)
  }
  return shared
}

/** IMAP form → stored form. Unknown `\Xyz` system-like flags keep their name without `\`. */
export function toStoredFlags(imapFlags: Iterable<string>): string[] {
  const out: string[] = []
  for (const flag of imapFlags) {
    if (flag.startsWith('\\')) {
      const name = flag.slice(1)
      if (name.toLowerCase() === 'recent') continue
      out.push(SYSTEM_BY_LOWER.get(name.toLowerCase()) ?? name)
    } else {
      out.push(flag)
    }
  }
  return internFlags(out)
}

/** Stored form → IMAP form (`Seen` → `\Seen`); anything else is a keyword. */
export function toImapFlags(storedFlags: Iterable<string>): string[] {
  const out: string[] = []
  for (const flag of storedFlags) {
    const system = SYSTEM_BY_LOWER.get(flag.toLowerCase())
    if (system !== undefined) out.push(`\\${system}`)
    else if (flag.toLowerCase() !== 'recent') out.push(flag)
  }
  return out
}

/** Order-insensitive comparison, used to skip flag updates that change nothing. */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const set = new Set(a)
  return b.every((f) => set.has(f))
}
