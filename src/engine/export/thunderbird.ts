/**
 * `mailkeep utils export-to-thunderbird EMAIL`: every backed-up folder of the account becomes a
 * mailbox in a Thunderbird profile's Local Folders (compat §2.2, §4.8; docs/commands/export.md):
 *
 *   <profile>/Mail/Local Folders/imap-backup.sbd/<email>.sbd/<A>.sbd/<B>   for folder `A/B`
 *
 * with an empty placeholder file beside every `.sbd` directory (`imap-backup`, `<email>`, `A`),
 * as Thunderbird expects. The top folder keeps imap-backup's name so that exports made by
 * either tool land in the same place and `--force` replaces them instead of duplicating them.
 *
 * A mailbox that exists (or whose `.msf` index exists) is skipped with a warning unless
 * `force`; then the `.msf` is deleted (it would index the old file) and the mailbox replaced.
 * Unlike imap-backup, every entry is real mboxrd (thunderbird-mbox.ts), so a body line starting
 * with `From ` does not split a message, and each mailbox is written to a hidden temporary file
 * (Thunderbird ignores names starting with `.`) and renamed into place when complete.
 *
 * The backup is only read (shared lock). Memory: one message at a time.
 */
import {rename, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {fsyncDirectory} from '../../shared/atomic-write.js'
import type {RunContext} from '../../shared/context.js'
import {errnoCode, localIoError, MailkeepError} from '../../shared/errors.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {writePieces} from '../../shared/write-all.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {
  createExclusive,
  inTheWay,
  pathInfo,
  removeIfPresent,
  removeQuietly,
  temporaryName,
  walkDirectories,
} from './files.js'
import {findAccount} from '../access/account-access.js'
import {exportEachFolder, exportMessages} from './run.js'
import {openExportSource} from './source.js'
import type {ExportFolderReport, ThunderbirdExportOptions, ThunderbirdExportReport} from './types.js'
import {folderSummary} from '../access/report.js'
import {INDEX_SUFFIX, splitFolderName, SUBFOLDER_SUFFIX, thunderbirdFileName} from './thunderbird-names.js'
import {thunderbirdEntry} from './thunderbird-mbox.js'
import {findThunderbirdProfile} from './thunderbird-profiles.js'

/** imap-backup's top folder under Local Folders (its EXPORT_PREFIX), kept for compatibility. */
export const EXPORT_TOP_FOLDER = 'imap-backup'

interface FolderPlan {
  folder: string
  /** Directory components below Local Folders, each already `<name>.sbd`. */
  directories: string[]
  leaf: string
  mailbox: string
}

export async function exportToThunderbird(options: ThunderbirdExportOptions, ctx: RunContext): Promise<ThunderbirdExportReport> {
  // The order of imap-backup's checks: the account, then the profile, then the backup.
  findAccount(options.config, options.email)
  const profile = await findThunderbirdProfile({
    ...(options.profile === undefined ? {} : {name: options.profile}),
    ...(options.thunderbirdDir === undefined ? {} : {dataDir: options.thunderbirdDir}),
  })
  const localFolders = join(profile.path, 'Mail', 'Local Folders')
  await requireLocalFolders(localFolders, profile.name)
  if ((await pathInfo(join(profile.path, 'lock'))).kind !== 'missing') {
    // Thunderbird holds `<profile>/lock` while it runs (Unix); it finds new folders at start-up.
    ctx.logger.warn(`Thunderbird seems to be running with profile '${profile.name}'; restart it to see the exported folders`)
  }

  const source = await openExportSource(options.config, options.email, ctx)
  const email = source.account.username
  const top = [EXPORT_TOP_FOLDER, email].map(thunderbirdFileName)
  const report: ThunderbirdExportReport = {
    account: email,
    profile: {name: profile.name, path: profile.path},
    target: join(localFolders, ...top.map((c) => c + SUBFOLDER_SUFFIX)),
    folders: [],
    messages: 0,
    bytes: 0,
    exitCode: ExitCode.OK,
  }
  const startedAt = Date.now()
  try {
    // Decide every folder's fate before writing anything: creating `A.sbd` for folder `A/B`
    // also creates the placeholder file `A`, which must not make folder `A` look taken.
    const plans = source.folders.map((f) => planFolder(localFolders, top, f.name))
    const taken = new Map<FolderPlan, string | undefined>()
    for (const plan of plans) taken.set(plan, await occupied(plan.mailbox))

    report.exitCode = await exportEachFolder(plans, report, ctx, (plan) => plan.mailbox, async (plan, folderReport) => {
      const what = taken.get(plan)
      if (what !== undefined && !options.force) {
        // imap-backup's warning in the log; the report says the same in fewer words.
        ctx.logger.warn(`Skipping export of '${plan.folder}' as '${what}' exists`, {folder: plan.folder})
        folderReport.status = 'skipped'
        folderReport.error = folderSummary(new MailkeepError(`'${what}' exists`, {hint: 'pass --force to replace it'}))
        return
      }
      await exportFolder(plan, localFolders, source.store, folderReport, options.force, startedAt, ctx)
    })
  } finally {
    await source.store.close()
  }
  return report
}

function planFolder(localFolders: string, top: string[], folder: string): FolderPlan {
  const names = splitFolderName(folder).map(thunderbirdFileName)
  const leaf = names.pop()!
  const directories = [...top, ...names].map((n) => n + SUBFOLDER_SUFFIX)
  return {folder, directories, leaf, mailbox: join(localFolders, ...directories, leaf)}
}

/**
 * What makes the mailbox's place taken (its path), or undefined when it is free. An empty file
 * without an index is free: it is a placeholder beside a `.sbd` directory and holds no mail.
 * Anything but a regular file there (directory, symlink) counts as taken and is never replaced.
 */
async function occupied(mailbox: string): Promise<string | undefined> {
  const index = await pathInfo(mailbox + INDEX_SUFFIX)
  if (index.kind !== 'missing') return mailbox + INDEX_SUFFIX
  const box = await pathInfo(mailbox)
  if (box.kind === 'missing' || (box.kind === 'file' && box.size === 0)) return undefined
  return mailbox
}

async function exportFolder(
  plan: FolderPlan,
  localFolders: string,
  store: AccountStore,
  report: ExportFolderReport,
  force: boolean,
  startedAt: number,
  ctx: RunContext,
): Promise<void> {
  const folder = await store.folder(plan.folder)
  try {
    await writeMailbox(plan, localFolders, folder, report, force, startedAt, ctx)
  } finally {
    await folder.close() // its file handle; the account store is closed by the caller
  }
}

async function writeMailbox(
  plan: FolderPlan,
  localFolders: string,
  folder: FolderStore,
  report: ExportFolderReport,
  force: boolean,
  startedAt: number,
  ctx: RunContext,
): Promise<void> {
  const directory = await walkDirectories(localFolders, plan.directories, true, placeholderFor)
  // Existing directories get their placeholder too (an earlier export may predate it).
  for (let i = 1; i <= plan.directories.length; i++) await placeholderFor(join(localFolders, ...plan.directories.slice(0, i)))

  const temporary = join(directory, temporaryName(plan.leaf))
  const handle = await createExclusive(temporary)
  const task = ctx.progress.start(`export ${plan.folder}`, {messages: folder.messages.length})
  ctx.logger.info(`Exporting folder '${plan.folder}' to '${plan.mailbox}'`, {folder: plan.folder})
  try {
    try {
      await exportMessages(folder, report, task, ctx, (message) => writePieces(handle, thunderbirdEntry(message.bytes, message.receivedAt ?? startedAt)))
      await handle.sync()
    } finally {
      await handle.close()
    }
    // Checked again now that the file is complete: a folder exported earlier in this run
    // (another name mapping to this file) or another program may have taken the place.
    const now = await occupied(plan.mailbox)
    const box = await pathInfo(plan.mailbox)
    if (box.kind !== 'missing' && box.kind !== 'file') throw inTheWay(plan.mailbox, box.kind)
    if (now !== undefined && !force) throw new MailkeepError(`'${now}' appeared while the folder was being exported; it was left as it is`)
    if (force) {
      const index = await pathInfo(plan.mailbox + INDEX_SUFFIX)
      if (index.kind !== 'missing' && index.kind !== 'file') throw inTheWay(plan.mailbox + INDEX_SUFFIX, index.kind)
      if (index.kind === 'file') ctx.logger.info(`Deleting '${plan.mailbox + INDEX_SUFFIX}' as --force option was supplied`, {folder: plan.folder})
      await removeIfPresent(plan.mailbox + INDEX_SUFFIX)
    }
    try {
      await rename(temporary, plan.mailbox)
    } catch (error) {
      throw localIoError(error, 'write', plan.mailbox)
    }
    await fsyncDirectory(directory)
  } catch (error) {
    await removeQuietly(temporary)
    throw error
  } finally {
    task.done()
  }
}

/**
 * Thunderbird shows a `.sbd` directory's folders under the folder of the same name without the
 * suffix, so that file must exist; an empty one is created (the thunderbird gem does the same).
 */
async function placeholderFor(sbd: string): Promise<void> {
  const placeholder = sbd.slice(0, -SUBFOLDER_SUFFIX.length)
  const {kind} = await pathInfo(placeholder)
  if (kind === 'file') return
  if (kind !== 'missing') throw inTheWay(placeholder, kind)
  try {
    await (await createExclusive(placeholder)).close()
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error // created meanwhile: fine
  }
}

async function requireLocalFolders(path: string, profileName: string): Promise<void> {
  let isDirectory = false
  try {
    isDirectory = (await stat(path)).isDirectory()
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw localIoError(error, 'read', path)
  }
  if (!isDirectory) {
    throw new MailkeepError(`The Thunderbird profile '${profileName}' has not been set up: there is no '${path}'`, {
      hint: 'start Thunderbird once with this profile (it creates Local Folders), close it, then run the export again',
    })
  }
}
