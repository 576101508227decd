/**
 * Server folder names → file names in a Thunderbird profile's Local Folders (compat §4.8).
 *
 * Thunderbird shows a local folder under its file name (until its `.msf` index records another),
 * and a folder `A/B` is the file `A.sbd/B`, with an empty file `A` beside `A.sbd` standing for
 * the parent. So names are kept as they are wherever Thunderbird would show them correctly, and
 * escaped (`%<hex>;`, the store's form, docs/design.md "Folder names") only where the name
 * would otherwise be unsafe or invisible:
 *
 * | in a component                                              | written as            |
 * | ----------------------------------------------------------- | --------------------- |
 * | `%` (so that the mapping stays injective)                   | `%25;`                |
 * | `/` that would leave an empty component (as the store does) | `%2f;`                |
 * | NUL, C0 controls, DEL, a lone UTF-16 surrogate              | `%0;` … `%1f;`, `%7f;`, `%d800;` |
 * | a first `.` or `#`, a last `~` (Thunderbird ignores those files: hidden, backups) | `%2e;` `%23;` `%7e;` |
 * | the `.` of an ending `.msf` `.sbd` `.snm` `.toc` `.mozmsgs` (index and directory suffixes) | `%2e;` |
 * | the `.` of a name Thunderbird keeps for itself (`rules.dat`, `filters.js`, `feeds.json`, …) | `%2e;` |
 *
 * The rules are those of Thunderbird's `nsMsgLocalStoreUtils::nsShouldIgnoreFile`: a file it
 * ignores would be exported but never shown. `.` and `..` start with a dot, so no component can
 * climb out of the target directory.
 */
import {escapeCharacters, escapeCodePoint} from '../../store/folder-path.js'

/** Suffixes Thunderbird gives its own files and directories (case-insensitive here, to be safe). */
const RESERVED_SUFFIXES = ['.msf', '.sbd', '.snm', '.toc', '.mozmsgs']

/** Whole names Thunderbird keeps for itself in a mail directory (lower case). */
const RESERVED_NAMES = new Set([
  'msgfilterrules.dat',
  'rules.dat',
  'rulesbackup.dat',
  'filterlog.html',
  'junklog.html',
  'popstate.dat',
  'sort.dat',
  'mailfilt.log',
  'filters.js',
  'feeds.json',
  'feeds.json.tmp',
  'feeds.json.backup',
  'feeds.json.corrupt',
  'feeditems.json',
  'feeditems.json.tmp',
  'feeditems.json.backup',
  'feeditems.json.corrupt',
  'feeds.rdf',
  'feeditems.rdf',
])

/** The suffix of the directory holding a folder's subfolders. */
export const SUBFOLDER_SUFFIX = '.sbd'
/** The suffix of Thunderbird's index (summary) file of a folder. */
export const INDEX_SUFFIX = '.msf'

/** Server names are split into components as the store splits them (folder-path.ts). */
export {splitFolderName} from '../../store/folder-path.js'

/** One component as a file name Thunderbird shows (see the table above). Never empty. */
export function thunderbirdFileName(component: string): string {
  // Only the empty name itself gives an empty component; the store cannot hold it, but never
  // return an empty file name.
  if (component === '') return escapeCodePoint(0x2f)
  // The store's escapes, without its imap-backup ones (`:` `;`), which Thunderbird shows well.
  const units = escapeCharacters(component)
  // Positions are of `units` (one entry per character), so escapes never shift them.
  const first = units[0]!
  if (first === '.' || first === '#') units[0] = escapeCodePoint(first.charCodeAt(0))
  const lastIndex = units.length - 1
  if (units[lastIndex] === '~') units[lastIndex] = escapeCodePoint(0x7e)
  const lower = component.toLowerCase()
  const suffix = RESERVED_SUFFIXES.find((s) => lower.endsWith(s))
  if (suffix !== undefined) {
    const dot = units.length - suffix.length
    if (dot > 0 && units[dot] === '.') units[dot] = escapeCodePoint(0x2e)
  }
  if (RESERVED_NAMES.has(lower)) {
    const dot = units.indexOf('.')
    if (dot >= 0) units[dot] = escapeCodePoint(0x2e)
  }
  if (lower.startsWith('feeditems_error')) units[9] = escapeCodePoint(0x5f)
  return units.join('')
}
