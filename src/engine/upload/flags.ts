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
 *
 * Some servers accept every flag in PERMANENTFLAGS and still refuse an APPEND or STORE that
 * carries keywords (some Exchange and Gmail setups). Such a refusal is told apart from the others
 * by `mayConcernKeywords`; a keyword counts as refused only once the same command without the
 * keywords succeeded (folder-upload.ts).
 */
import {serverAnswer} from '../../imap/index.js'
import {toImapFlags} from '../../store/flags.js'

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

/**
 * RFC 5530 response codes that name another reason than the flags: the message is too big, the
 * quota is full, the folder is missing or not writable, the server is unwell, the message could
 * not be parsed. A NO with one of these is never retried without keywords.
 */
const NOT_ABOUT_FLAGS = new Set([
  'TOOBIG',
  'OVERQUOTA',
  'LIMIT',
  'TRYCREATE',
  'NONEXISTENT',
  'NOPERM',
  'READ-ONLY',
  'INUSE',
  'UNAVAILABLE',
  'SERVERBUG',
  'CONTACTADMIN',
  'CORRUPTION',
  'EXPUNGEISSUED',
  'ALREADYEXISTS',
  'AUTHORIZATIONFAILED',
  'AUTHENTICATIONFAILED',
  'EXPIRED',
  'PRIVACYREQUIRED',
  'PARSE',
  'BADCHARSET',
  'THROTTLED',
])
/** Words of a code-less NO that name another reason (quota, size), unless flags are named too. */
const OTHER_REASON = /quota|too (big|large|long)|size|exceed|limit|mailbox (is )?full|no space|storage|disk|permission|denied|not allowed to|read[- ]only|does not exist|doesn't exist|unknown mailbox|try again|temporar|unavailable|timeout|throttl/i
const NAMES_FLAGS = /flag|keyword|label/i

/**
 * Whether a refused APPEND or STORE may have been refused for the keywords it carried, so that
 * sending it again without them is worth one command: a BAD (a keyword the server does not parse
 * is the usual suspect: everything else we send is plain syntax), `[CANNOT]`, `[CLIENTBUG]`, or a
 * NO without a code whose text does not name another reason. Never for a NO whose code or text
 * says what else is wrong (too big, over quota, no such folder, …): retrying that without the
 * keywords would fail again and teach nothing, or worse, succeed by chance and drop the keywords
 * of every later message.
 */
export function mayConcernKeywords(error: unknown): boolean {
  const answer = serverAnswer(error)
  if (answer === undefined) return false
  if (answer.status === 'BAD') return true
  if (answer.code !== undefined && NOT_ABOUT_FLAGS.has(answer.code)) return false
  if (NAMES_FLAGS.test(answer.text)) return true
  return !OTHER_REASON.test(answer.text)
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
