/**
 * Server folder name ↔ relative path inside the account root (docs/design.md, "Folder names";
 * compat §4.1, §4.6). The name is the server's, already decoded from modified UTF-7.
 *
 * imap-backup's mapping is kept for every name it can store safely: `/` makes directories and
 * only `:` `%` `;` are escaped, as `%<lower-case hex code point>;`. mailkeep adds escapes (same
 * form) only where imap-backup's result would be unsafe, so that no name can be absolute, empty,
 * climb out with `..`, or carry bytes that terminals and other tools choke on (I8):
 *
 * | server name has                         | written as                                  |
 * | --------------------------------------- | ------------------------------------------- |
 * | `:` `%` `;`                             | `%3a;` `%25;` `%3b;` (imap-backup)          |
 * | NUL, C0 control (U+0000–U+001F), DEL    | `%0;` … `%1f;`, `%7f;` (no zero padding)    |
 * | a lone UTF-16 surrogate                 | `%d800;` … `%dfff;`                         |
 * | a component that is exactly `.` or `..` | `%2e;` / `%2e;%2e;`                         |
 * | a `/` that would leave an empty component (leading, trailing, doubled) | `%2f;`       |
 *
 * The hex is lower case without padding because that is what imap-backup's `format("%x")`
 * produces for `:` (`%3a;`); using one form for every escape keeps one decoder for both tools.
 * Lone surrogates cannot occur in a well-formed UTF-8 name, but a server sending broken
 * modified UTF-7 can produce one; Node would write it to the file system as U+FFFD, so two
 * different names could share a file. Escaping keeps the mapping injective.
 *
 * Because `%` itself is always escaped, the mapping is injective and `decodeFolderPath` is its
 * exact inverse; it also reads the names imap-backup wrote (which only use `%3a;` `%25;` `%3b;`).
 */
import {FolderNameTooLongError, InternalError, UsageError} from '../shared/errors.js'

/** The longest file name component most file systems accept (ext4, APFS, NTFS: 255). */
export const MAX_COMPONENT_BYTES = 255

/**
 * Room kept free in the last component for the longest suffix mailkeep appends to a folder's
 * files: `.imap.damaged-20261122T101112Z` is 31 bytes; the rest is a margin.
 */
export const SUFFIX_RESERVE_BYTES = 40

const SEPARATOR = '/'

/**
 * The relative path (POSIX `/` separators) under which the folder's files live, without a
 * suffix: the caller appends `.mbox`, `.imap`, ….
 *
 * @throws UsageError for the empty name, and for a name with a path component longer than
 *   MAX_COMPONENT_BYTES once encoded; the message names the folder.
 */
export function encodeFolderPath(serverName: string): string {
  if (serverName === '') throw new UsageError('a folder with an empty name cannot be stored')
  const encoded = splitFolderName(serverName).map(encodeComponent)
  for (let i = 0; i < encoded.length; i++) {
    const bytes = Buffer.byteLength(encoded[i]!, 'utf8')
    // The last component also carries the longest file suffix (`.imap.damaged-<timestamp>`).
    const limit = i === encoded.length - 1 ? MAX_COMPONENT_BYTES - SUFFIX_RESERVE_BYTES : MAX_COMPONENT_BYTES
    if (bytes > limit) {
      throw new FolderNameTooLongError(
        `the folder ${JSON.stringify(serverName)} cannot be stored: a part of its name is ${bytes} bytes long once encoded, longer than the ${limit} bytes mailkeep can use in a file name`,
        {hint: 'exclude this folder from the backup, or rename it on the server'},
      )
    }
  }
  return encoded.join(SEPARATOR)
}

/**
 * The server name of a relative path written by encodeFolderPath or by imap-backup.
 * A `%` that does not start a well-formed escape (`%` + lower-case hex without leading zeros,
 * a Unicode code point, `;`) is kept as it is: such names can only come from another tool or
 * an imap-backup older than 9.2.0, which did not escape at all.
 */
export function decodeFolderPath(relativePath: string): string {
  return relativePath.split(SEPARATOR).map(decodeComponent).join(SEPARATOR)
}

/**
 * The server-side name that a folder's old backup is renamed to when the server's UIDVALIDITY
 * changes (compat §4.6): `<folder>-<old uidvalidity>`, or `<folder>-<old uidvalidity>-<n>` when
 * that is taken. Like imap-backup, the suffix is added to the server name (not to the encoded
 * path), so the result is encoded by encodeFolderPath like any other name, and `local` commands
 * show it as `INBOX-1606316666`.
 *
 * @param suffix what is appended, including its dashes: `"-1606316666"` or `"-1606316666-2"`;
 *   a number `n` stands for `"-n"`.
 * @throws UsageError if the resulting name cannot be stored (encodeFolderPath's rules).
 */
export function folderNameWithSuffix(serverName: string, suffix: number | string): string {
  const text = typeof suffix === 'number' ? `-${suffix}` : suffix
  // A programming error, not a user's: callers pass numbers they computed themselves.
  if (typeof suffix === 'number' ? !Number.isSafeInteger(suffix) || suffix < 0 : !/^(-\d+)+$/.test(text)) {
    throw new InternalError(`invalid folder name suffix ${JSON.stringify(text)}`)
  }
  if (serverName === '') throw new UsageError('a folder with an empty name cannot be stored')
  const name = serverName + text
  encodeFolderPath(name) // fail here, naming the folder, rather than when the files are renamed
  return name
}

/**
 * Splits at `/`, except that a `/` which would end an empty component (a leading, trailing or
 * doubled `/`) stays inside the component, to be escaped as `%2f;`. So `a//b` → [`a`, `/b`],
 * `a///b` → [`a`, `/`, `b`], `/x` → [`/x`], `a/` → [`a/`]: never an empty component, never an
 * absolute path. (The Thunderbird export splits names the same way.)
 */
export function splitFolderName(name: string): string[] {
  const components: string[] = []
  let current = ''
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!
    const isLast = i === name.length - 1
    if (ch === SEPARATOR && current !== '' && !isLast) {
      components.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  components.push(current)
  return components
}

/** `:` and `;`, escaped in the store's names as imap-backup does (besides the always-escaped ones). */
const IMAP_BACKUP_ESCAPES: readonly number[] = [0x3a, 0x3b]

function encodeComponent(component: string): string {
  // Only the whole component is special: `...`, `.x` and `a..b` are ordinary file names.
  if (component === '.' || component === '..') return escapeCodePoint(46).repeat(component.length)
  return escapeCharacters(component, IMAP_BACKUP_ESCAPES).join('')
}

/**
 * The characters of one component, each as it is or as its escape: C0 controls and DEL, `%`, a
 * `/` kept inside the component, a lone UTF-16 surrogate, and the code units in `alsoEscape`. A
 * well-formed surrogate pair is one (astral) character, copied as it is. One entry per character
 * of the component, so a caller can still change an entry by its position.
 */
export function escapeCharacters(component: string, alsoEscape: readonly number[] = []): string[] {
  const out: string[] = []
  for (let i = 0; i < component.length; i++) {
    const unit = component.charCodeAt(i)
    if (isHighSurrogate(unit) && isLowSurrogate(component.charCodeAt(i + 1))) {
      out.push(component[i]! + component[i + 1]!)
      i++
    } else if (unit < 0x20 || unit === 0x7f || unit === 0x25 || unit === 0x2f || isHighSurrogate(unit) || isLowSurrogate(unit) || alsoEscape.includes(unit)) {
      out.push(escapeCodePoint(unit))
    } else {
      out.push(component[i]!)
    }
  }
  return out
}

const ESCAPE = /%(0|[1-9a-f][0-9a-f]{0,5});/g

function decodeComponent(component: string): string {
  return component.replace(ESCAPE, (whole, hex: string) => {
    const codePoint = Number.parseInt(hex, 16)
    return codePoint > 0x10ffff ? whole : String.fromCodePoint(codePoint)
  })
}

/** The escape of one code point: `%` + lower-case hex without leading zeros + `;` (`%0;`, `%2f;`). */
export function escapeCodePoint(codePoint: number): string {
  return `%${codePoint.toString(16)};`
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff
}
