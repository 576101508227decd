/**
 * The integrity checker behind `mailkeep local check` (docs/commands/local.md; compat §4.5).
 *
 * It runs every check on a folder and returns ALL findings, not the first one: imap-backup's
 * seven checks with their exact texts (compat §4.5, in its order), then mailkeep's own (design.md
 * invariants I1–I9): duplicate UIDs, exactness records that do not decode the entry they describe,
 * messages that are not byte-exact (no exactness record, or one that no longer matches because
 * another tool rewrote the folder) and which ones, a damaged or orphaned exactness file, a
 * pending journal or an interrupted multi-file operation, symlinks, an mbox without metadata,
 * a newer format, a version-2 file that cannot be migrated, and UIDs a repair could not verify.
 *
 * It only reads (it works under the shared lock and never recovers anything): it lstat()s every
 * path, never follows a symlink inside the account root (I8), and reads the mbox sequentially in
 * bounded chunks, so a 100,000-message folder or a 50 MB message costs no more memory than one
 * chunk. Every finding carries the exact command that repairs it, when there is one.
 */
import {lstat, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {errnoCode} from '../shared/errors.js'
import {decodeFolderPath} from './folder-path.js'
import {folderPaths, type FolderPaths} from './folder-paths.js'
import {LOCK_FILE_NAME} from './lock.js'
import {findStaleTempFiles} from './temp-files.js'
import {pause, READ_ATTEMPTS} from './read-snapshot.js'
import {symlinkFinding, unreadable, type CheckOptions, type Finding, type FolderCheck} from './findings.js'
import {FolderChecker} from './folder-checker.js'

export {MAX_FINDINGS_PER_CODE, UNVERIFIED_UID_VALIDITY, type CheckOptions, type Finding, type FindingCode, type FolderCheck, type Severity} from './findings.js'

/** Suffixes that make a file part of a folder (design.md, "Files of one account"). */
const FOLDER_SUFFIXES = ['.imap.journal', '.imap.compact', '.mbox.compact', '.mailkeep.compact', '.rename', '.imap', '.mbox', '.mailkeep'] as const

/**
 * Every folder of an account: the union of the bases of `.imap`, `.mbox`, journal and
 * interrupted-operation files under the root (so an mbox without metadata is found too), each
 * checked. Symlinks met on the way are findings, never followed. Sorted by relative path.
 */
export async function checkAccount(root: string, options: CheckOptions = {}): Promise<FolderCheck[]> {
  /** Folder bases found (true: it has folder files to check) and findings of the walk itself. */
  const bases = new Map<string, {files: boolean; findings: Finding[]}>()
  const note = (relativeBase: string, files: boolean, finding?: Finding): void => {
    const entry = bases.get(relativeBase) ?? {files: false, findings: []}
    entry.files ||= files
    if (finding !== undefined) entry.findings.push(finding)
    bases.set(relativeBase, entry)
  }
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      note(prefix === '' ? '.' : prefix.slice(0, -1), false, unreadable(dir, error))
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const relative = `${prefix}${entry.name}`
      if (prefix === '' && entry.name === LOCK_FILE_NAME) continue
      const base = folderBase(relative)
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${relative}/`)
      // A symlinked folder file is reported by checkFolder; a symlinked directory here.
      else if (entry.isSymbolicLink() && base === undefined) note(relative, false, symlinkFinding(join(dir, entry.name)))
      else if (base !== undefined) note(base, true)
    }
  }
  await walk(root, '')
  for (const temp of await findStaleTempFiles(root)) {
    note(temp.folderBase, false, {
      code: 'stale-temp',
      severity: 'warning',
      message: `temporary file '${temp.path}' (${temp.bytes} bytes) was left by an interrupted run; it holds nothing the folder needs, and the next backup of this account removes it`,
      file: temp.path,
      repair: undefined,
    })
  }
  const results: FolderCheck[] = []
  for (const relativePath of [...bases.keys()].sort()) {
    const name = decodeFolderPath(relativePath)
    const found = bases.get(relativePath)!
    const findings = found.files ? [...found.findings, ...(await checkFolder(root, relativePath, {...options, folderName: name}))] : found.findings
    results.push({name, relativePath, findings})
  }
  return results
}

/**
 * All findings for one folder (its relative path, as encodeFolderPath gives it). An empty list
 * means the folder is OK. Never writes; throws only when aborted.
 */
export async function checkFolder(root: string, relativePath: string, options: CheckOptions & {folderName?: string} = {}): Promise<Finding[]> {
  const name = options.folderName ?? decodeFolderPath(relativePath)
  const paths = folderPaths(root, relativePath)
  // No lock is held: a backup may commit this folder while it is checked. The findings count
  // only when `.imap` was the same file before and after (read-snapshot.ts says why that is one
  // committed state), else the folder is checked again.
  for (let attempt = 1; ; attempt++) {
    const before = await folderState(paths)
    const findings = await new FolderChecker(root, relativePath, name, options).run()
    const after = await folderState(paths)
    const inFlux = options.writerPid !== undefined && (before.inFlux || after.inFlux)
    if (before.imap === after.imap && !inFlux) return findings
    if (attempt >= READ_ATTEMPTS) {
      // What was read is no one state: say so instead of reporting damage that is not there.
      const message = `the folder changed ${READ_ATTEMPTS} times while it was checked (a backup is committing it); check it again later`
      return [{code: 'busy', severity: 'warning', message, file: paths.imap, repair: undefined}]
    }
    await pause(attempt)
  }
}

/** What changes when a writer commits or rewrites a folder: its `.imap` file, and the markers of a rename or rewrite. */
async function folderState(paths: FolderPaths): Promise<{imap: string; inFlux: boolean}> {
  const stamp = async (path: string): Promise<string> => {
    try {
      const info = await lstat(path, {bigint: true})
      return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 'absent'
      return `unreadable:${errnoCode(error) ?? ''}`
    }
  }
  const [imap, intent, compact] = await Promise.all([stamp(paths.imap), stamp(paths.renameIntent), stamp(paths.imapCompact)])
  return {imap, inFlux: intent !== 'absent' || compact !== 'absent'}
}

function folderBase(relative: string): string | undefined {
  for (const suffix of FOLDER_SUFFIXES) if (relative.endsWith(suffix) && relative.length > suffix.length) return relative.slice(0, -suffix.length)
  return undefined
}
