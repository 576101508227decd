/**
 * Folder names between two servers (docs/delimiters-and-prefixes.md). Pure functions.
 *
 * A backed-up folder is stored under the SOURCE server's full name (`INBOX.Lists.rust` on a
 * server whose hierarchy delimiter is `.`), so the name is split on that server's real
 * delimiter — not on `/` as imap-backup does (compat §8, §12 item 6: a backup of a `.` server
 * was never split there, which is imap-backup issues #199, #209). Then:
 *
 * 1. if the first components spell the source prefix (`INBOX.` → `INBOX`), they are dropped;
 * 2. the destination prefix (without its trailing delimiter) is put in front;
 * 3. the components are joined with the destination delimiter.
 *
 * `INBOX` is special (RFC 3501 §5.1: its name is case-insensitive and it is not under any
 * prefix): it stays `INBOX`, unless the destination prefix is a subtree the user chose
 * (`--destination-prefix Old/`), where the source's INBOX becomes `Old/INBOX`, as in imap-backup.
 *
 * So `INBOX.Sub` on a `.` server with prefix `INBOX.` ↔ `Sub` on a `/` server without one.
 */

export interface NamingSide {
  /** Personal namespace prefix, with or without its trailing delimiter (`INBOX.`, `INBOX`, ``). */
  prefix: string
  /** Hierarchy delimiter (RFC 3501 §6.3.8); '' for a server with a flat namespace. */
  delimiter: string
}

export interface FolderNaming {
  source: NamingSide
  destination: NamingSide
  /** INBOX maps to INBOX (see inboxStaysInbox). */
  inboxToInbox: boolean
}

/** The destination's name for a source folder. */
export function destinationName(sourceName: string, naming: FolderNaming): string {
  const {source, destination} = naming
  if (isInbox(sourceName) && naming.inboxToInbox) return 'INBOX'
  let parts = splitName(sourceName, source.delimiter)
  const prefixParts = splitName(trimPrefix(source.prefix, source.delimiter), source.delimiter)
  if (prefixParts.length > 0 && parts.length > prefixParts.length && startsWithParts(parts, prefixParts)) {
    parts = parts.slice(prefixParts.length)
  }
  const destinationPrefix = trimPrefix(destination.prefix, destination.delimiter)
  if (destinationPrefix !== '') parts = [destinationPrefix, ...parts]
  return parts.join(destination.delimiter)
}

/**
 * Whether INBOX goes to INBOX: yes unless the destination prefix is one the user chose that is
 * neither empty, nor `INBOX`, nor the destination server's own personal namespace prefix.
 */
export function inboxStaysInbox(destinationPrefix: string, delimiter: string, serverPersonalPrefix: string | undefined): boolean {
  const chosen = trimPrefix(destinationPrefix, delimiter)
  if (chosen === '' || chosen.toUpperCase() === 'INBOX') return true
  return serverPersonalPrefix !== undefined && trimPrefix(serverPersonalPrefix, delimiter) === chosen
}

/** The name's components; a flat namespace ('' delimiter) has one. */
export function splitName(name: string, delimiter: string): string[] {
  if (name === '') return []
  return delimiter === '' ? [name] : name.split(delimiter)
}

/** The prefix without one trailing delimiter (`INBOX.` → `INBOX`). */
export function trimPrefix(prefix: string, delimiter: string): string {
  return delimiter !== '' && prefix.endsWith(delimiter) ? prefix.slice(0, -delimiter.length) : prefix
}

export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX'
}

/**
 * The name of a folder created beside `name` after a clash (compat §7): `<name>-<uidvalidity>`,
 * then `-1`, `-2`, … (imap-backup's renaming rule of §4.6, applied on the server), named as a
 * backed-up folder of that name would be on the destination `side`: under its prefix. `name` is
 * a destination name already (under the prefix), except INBOX, which stands outside every prefix
 * (RFC 3501 §5.1) while `INBOX-<uidvalidity>` does not: on a server whose personal namespace is
 * `INBOX.` (Courier, Cyrus and Dovecot set up that way) the clash folder of INBOX is
 * `INBOX.INBOX-<uidvalidity>`; the servers refuse `INBOX-<uidvalidity>`, which lies outside
 * every personal namespace there. Without a prefix it is `INBOX-<uidvalidity>`.
 */
export function clashName(name: string, uidValidity: number, attempt: number, side: NamingSide): string {
  const suffix = attempt === 0 ? `-${uidValidity}` : `-${uidValidity}-${attempt}`
  const prefix = trimPrefix(side.prefix, side.delimiter)
  // As destinationName() joins: `INBOX` + `.` + …; a flat namespace keeps its prefix whole.
  if (isInbox(name) && prefix !== '') return `${prefix}${side.delimiter}${name}${suffix}`
  return `${name}${suffix}`
}

function startsWithParts(parts: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((p, i) => {
    const part = parts[i]
    // The prefix `INBOX` matches the INBOX component whatever its case (RFC 3501 §5.1).
    return part === p || (part !== undefined && isInbox(part) && isInbox(p))
  })
}
