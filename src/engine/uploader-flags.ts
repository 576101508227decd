/**
 * Which stored flags a destination folder gets (docs/commands/restore.md, "Flags").
 *
 * - `\Seen`, `\Answered`, `\Flagged`, `\Draft` are set when the folder keeps them;
 * - keywords (`$Forwarded`, `Work`) are set when the folder's PERMANENTFLAGS (RFC 3501 §7.1)
 *   list them or contain `\*` (new keywords allowed), and when they are valid atoms (§9
 *   `flag-keyword`); otherwise they are dropped and reported — the message is uploaded anyway;
 * - `\Deleted` is never set: a restored message must not be one EXPUNGE away from being lost
 *   (imap-backup drops it too); `\Recent` cannot be set by a client (§2.3.2).
 *
 * Without PERMANENTFLAGS every flag is taken as permanent (RFC 3501 §7.1).
 */
import {toImapFlags} from '../store/flags.js'

const SETTABLE_SYSTEM = new Set(['\\SEEN', '\\ANSWERED', '\\FLAGGED', '\\DRAFT'])
const NEVER = new Set(['\\DELETED', '\\RECENT'])
/** RFC 3501 §9: atom-specials, plus `]` (resp-specials), are not allowed in a keyword. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NOT_ATOM = /[\u0000-\u0020\u007f-\uffff(){%*"\\\]]/

export interface FlagChoice {
  /** IMAP flags to send. */
  flags: string[]
  /** Flags the message has in the backup that the destination does not get, with why. */
  dropped: Array<{flag: string; reason: string}>
}

export class FlagPolicy {
  private readonly permanent: Set<string> | undefined
  private readonly anyKeyword: boolean
  /** Keywords the server refused in an APPEND or STORE of this run (they are dropped from then on). */
  private readonly refused = new Set<string>()

  constructor(permanentFlags: readonly string[] | undefined) {
    if (permanentFlags === undefined) {
      this.permanent = undefined
      this.anyKeyword = true
    } else {
      this.permanent = new Set(permanentFlags.map((f) => f.toUpperCase()))
      this.anyKeyword = this.permanent.has('\\*')
    }
  }

  /** The flags to set for a message stored with `storedFlags` (imap-backup's form: `Seen`). */
  choose(storedFlags: readonly string[]): FlagChoice {
    const flags: string[] = []
    const dropped: FlagChoice['dropped'] = []
    for (const flag of new Set(toImapFlags(storedFlags))) {
      const upper = flag.toUpperCase()
      if (NEVER.has(upper)) continue
      if (flag.startsWith('\\')) {
        if (!SETTABLE_SYSTEM.has(upper)) dropped.push({flag, reason: 'not a flag a client can set'})
        else if (this.permanent !== undefined && !this.permanent.has(upper)) dropped.push({flag, reason: 'the destination folder does not keep it (PERMANENTFLAGS)'})
        else flags.push(flag)
        continue
      }
      if (flag === '' || NOT_ATOM.test(flag)) dropped.push({flag, reason: 'not a valid IMAP keyword'})
      else if (this.refused.has(upper)) dropped.push({flag, reason: 'the server refused it'})
      else if (!this.anyKeyword && !this.permanent!.has(upper)) dropped.push({flag, reason: 'the destination folder does not accept new keywords (PERMANENTFLAGS)'})
      else flags.push(flag)
    }
    return {flags, dropped}
  }

  /** The server refused these keywords: drop them from now on. */
  refuse(keywords: readonly string[]): void {
    for (const k of keywords) if (!k.startsWith('\\')) this.refused.add(k.toUpperCase())
  }

  /** True for the flags this policy would ever manage on the destination (all but \Deleted, \Recent). */
  static managed(flag: string): boolean {
    return !NEVER.has(flag.toUpperCase())
  }
}

/** Keywords (not system flags) of a flag list. */
export function keywordsOf(flags: readonly string[]): string[] {
  return flags.filter((f) => !f.startsWith('\\'))
}

/** Order- and case-insensitive set equality of IMAP flags (system flags are case-insensitive, RFC 3501 §2.3.2). */
export function sameFlagSet(a: readonly string[], b: readonly string[]): boolean {
  const norm = (list: readonly string[]): string[] => [...new Set(list.map((f) => (f.startsWith('\\') ? f.toUpperCase() : f)))].sort()
  const x = norm(a)
  const y = norm(b)
  return x.length === y.length && x.every((f, i) => f === y[i])
}
