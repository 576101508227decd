/**
 * Where `mailkeep utils export` puts each folder and message (docs/commands/export.md).
 *
 * Folder directories use the store's own file-name mapping (store/folder-path.ts:
 * `encodeFolderPath`), so a folder is found under the same relative path as its `.mbox` in the
 * backup, and no name can climb out of the target (docs/design.md I8). `/` makes nested
 * directories. Two additions keep a child folder from colliding with its parent's files:
 *
 * - Maildir (nested, like Dovecot's `LAYOUT=fs`, mbsync's `SubFolders Verbatim`, offlineimap):
 *   folder `A/B` is the Maildir `A/B/{cur,new,tmp}` beside `A/{cur,new,tmp}`; a child named
 *   `cur`, `new` or `tmp` (any case) would be its parent's Maildir subdirectory, so its first
 *   letter is escaped (`%63;ur`).
 * - eml: folder `A` is the directory `A/` holding `<uid>.eml`; a child named like a message
 *   file (`123.eml`) has its dot escaped (`123%2e;eml`).
 *
 * Both escapes have the store's form, so `decodeFolderPath` still gives the server name back.
 */
import {encodeFolderPath} from '../../store/folder-path.js'

const MAILDIR_SUBDIRECTORY = /^(cur|new|tmp)$/i
const MESSAGE_FILE = /^\d+\.eml$/i

/** The folder's directory below the target, as path components. */
export function maildirFolderComponents(folder: string): string[] {
  return encodeFolderPath(folder)
    .split('/')
    .map((c, i) => (i > 0 && MAILDIR_SUBDIRECTORY.test(c) ? `%${c.charCodeAt(0).toString(16)};${c.slice(1)}` : c))
}

export function emlFolderComponents(folder: string): string[] {
  return encodeFolderPath(folder)
    .split('/')
    .map((c, i) => (i > 0 && MESSAGE_FILE.test(c) ? c.replace('.', '%2e;') : c))
}

export function emlFileName(uid: number): string {
  return `${uid}.eml`
}

/**
 * The Maildir unique name of a message, without the `:2,` info: `<time>.M<uid>V<uidvalidity>.mailkeep`
 * (https://cr.yp.to/proto/maildir.html: `time.unique.host`). It depends only on the backup, so
 * exporting again gives the same name and `--force` replaces the earlier file. `time` is when
 * the message was received (seconds), 0 when unknown.
 */
export function maildirBaseName(uid: number, uidValidity: number, receivedAt: number | null): string {
  const seconds = receivedAt === null ? 0 : Math.max(0, Math.floor(receivedAt / 1000))
  return `${seconds}.M${uid}V${uidValidity}.mailkeep`
}

/**
 * The Maildir info suffix `:2,<flags>` from stored flags, letters in ASCII order as the spec
 * requires: D Draft, F Flagged, P Passed ($Forwarded), R Replied (Answered), S Seen, T Trashed
 * (Deleted). Other keywords have no Maildir letter and are not carried.
 */
export function maildirInfo(flags: readonly string[]): string {
  const set = new Set(flags.map((f) => f.toLowerCase()))
  const letters = [
    ['draft', 'D'],
    ['flagged', 'F'],
    ['$forwarded', 'P'],
    ['answered', 'R'],
    ['seen', 'S'],
    ['deleted', 'T'],
  ]
    .filter(([flag]) => set.has(flag!))
    .map(([, letter]) => letter)
  return `:2,${letters.join('')}`
}

/** The unique part of a Maildir file name: everything before the `:` of its info. */
export function maildirUniquePart(fileName: string): string {
  const colon = fileName.indexOf(':')
  return colon < 0 ? fileName : fileName.slice(0, colon)
}
