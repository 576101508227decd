/**
 * Every listed folder gets a name of its own. Decoding modified UTF-7 (RFC 3501 §5.1.3) is not
 * one-to-one: `&AGE-` is a non-canonical spelling of `a` (printable ASCII must stand for itself),
 * padding bits may differ (`&AGE-`, `&AGF-`), and a server may list a raw UTF-8 name beside its
 * modified UTF-7 spelling. Such folders are different mailboxes on the server; named alike,
 * one of them would never be backed up, and both would share one local folder (issue 11 item 6;
 * docs/backup.md B2: no two server folders map onto one local folder).
 *
 * A non-canonical modified UTF-7 spelling (ASCII on the wire, decoding to something else, but
 * not what we would send for that name: `&AGE-`) is always named `<decoded> [<its spelling>]`,
 * whether or not its canonical twin is listed now, so that its name, and so its local folder,
 * does not change when the twin comes or goes. Otherwise, within a group of listed names that
 * decode alike (a raw UTF-8 name beside its modified UTF-7 spelling), the one spelled canonically
 * keeps the decoded name and every other one gets the same kind of name. The spelling is shown
 * in printable ASCII (`\xHH` for the bytes of anything else, and for `/`, `\`, `[`, `]` and the
 * hierarchy delimiter, so that the suffix never adds a level). A name that is already taken gets
 * ` 2`, ` 3`, … inside the brackets. Any other name is left as it is, however it was spelled: a
 * server that lists its folders in raw UTF-8 keeps their names, and a name with a stray `&`
 * (`Tom & Jerry`) decodes to itself. The session sends each folder's own spelling back
 * (mailbox-name.ts), so every one of them can be opened.
 */
import {encodeMailboxName} from './mutf7.js'

export interface ListedName {
  /** As the server sent it. */
  wire: string
  /** Decoded (mutf7.ts). */
  name: string
  delimiter: string | null
}

/** The distinct names, in the order given. */
export function distinctNames(entries: readonly ListedName[]): string[] {
  const groups = new Map<string, number>()
  for (const e of entries) groups.set(e.name, (groups.get(e.name) ?? 0) + 1)
  const taken = new Set(entries.map((e) => e.name))
  return entries.map((e) => {
    if (encodeMailboxName(e.name) === e.wire) return e.name
    if (groups.get(e.name) === 1 && !nonCanonicalUtf7(e)) return e.name
    const spelling = showSpelling(e.wire, e.delimiter)
    let alias = `${e.name} [${spelling}]`
    for (let n = 2; taken.has(alias); n++) alias = `${e.name} [${spelling} ${n}]`
    taken.add(alias)
    return alias
  })
}

/** ASCII on the wire that decodes to something else, spelled otherwise than we would spell it. */
function nonCanonicalUtf7(e: ListedName): boolean {
  return e.name !== e.wire && /^[\x20-\x7e]*$/.test(e.wire)
}

function showSpelling(wire: string, delimiter: string | null): string {
  let out = ''
  for (const char of wire) {
    const code = char.codePointAt(0)!
    const plain = code >= 0x20 && code <= 0x7e && char !== '/' && char !== '\\' && char !== delimiter && char !== '[' && char !== ']'
    out += plain ? char : [...Buffer.from(char, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
  }
  return out
}
