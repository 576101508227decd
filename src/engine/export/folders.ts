/**
 * `mailkeep utils export EMAIL --format maildir|eml --to DIR`: the backed-up folders as a
 * Maildir tree or as one `.eml` file per message (docs/commands/export.md; layout in
 * layout.ts). Messages written by mailkeep are exported byte for byte as the server sent
 * them; messages imap-backup wrote are exported as it stored them (and counted as such).
 *
 * Nothing is overwritten silently: before anything is written, every selected folder's
 * directory is checked, and if one already holds messages the export is refused as a whole
 * unless `force`. With `force`, files of the same name are replaced (exporting the same backup
 * again gives the same names) and other files are left alone.
 *
 * The backup is only read (shared lock). Memory: one message at a time. Each file is written
 * under a temporary name and renamed, so a file under its final name is always complete; like
 * `cp`, the export leaves flushing to the OS (no fsync per message: an export can be repeated).
 */
import {randomBytes} from 'node:crypto'
import {readdir} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import type {RunContext} from '../../shared/context.js'
import {errnoCode, localIoError, MailkeepError, UsageError} from '../../shared/errors.js'
import {ExitCode} from '../../shared/exit-codes.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {ensureTargetDirectory, inTheWay, pathInfo, removeIfPresent, temporaryName, walkDirectories, writeThenRename} from './files.js'
import {emlFileName, emlFolderComponents, maildirBaseName, maildirFolderComponents, maildirInfo, maildirUniquePart} from './layout.js'
import type {ExportMessage} from './message.js'
import {exportEachFolder, exportMessages} from './run.js'
import {openExportSource} from './source.js'
import type {ExportFolderReport, ExportFormat, ExportOptions, ExportReport} from './types.js'

const MAILDIR_SUBDIRECTORIES = ['cur', 'new', 'tmp'] as const

interface FolderPlan {
  folder: string
  components: string[]
  directory: string
}

export async function exportFolders(options: ExportOptions, ctx: RunContext): Promise<ExportReport> {
  const to = resolve(options.to)
  const source = await openExportSource(options.config, options.email, ctx)
  const report: ExportReport = {account: source.account.username, format: options.format, to, folders: [], messages: 0, bytes: 0, exitCode: ExitCode.OK}
  try {
    const names = chooseFolders(source.folders.map((f) => f.name), options.folders, source.account.username)
    const plans = names.map((folder) => {
      const components = options.format === 'maildir' ? maildirFolderComponents(folder) : emlFolderComponents(folder)
      return {folder, components, directory: join(to, ...components)}
    })
    if (!options.force) await refuseOccupied(plans, to, options.format)
    await ensureTargetDirectory(to)

    report.exitCode = await exportEachFolder(plans, report, ctx, (plan) => plan.directory, (plan, folderReport) =>
      exportFolder(plan, to, options.format, source.store, folderReport, ctx),
    )
  } finally {
    await source.store.close()
  }
  return report
}

/** The folders named by `--folders` (in the order given, each once), or all of them. */
function chooseFolders(available: string[], wanted: readonly string[] | undefined, account: string): string[] {
  if (wanted === undefined || wanted.length === 0) return available
  const known = new Set(available)
  const missing = wanted.find((name) => !known.has(name))
  if (missing !== undefined) {
    throw new UsageError(`Folder '${missing}' not found`, {hint: `\`mailkeep local folders ${account}\` lists the backed-up folders`})
  }
  return [...new Set(wanted)]
}

/**
 * Refuses (before anything is written) when a folder's directory already holds messages:
 * Maildir files in `cur/` or `new/`, or `.eml` files. Symlinks on the way are refused too.
 */
async function refuseOccupied(plans: FolderPlan[], to: string, format: ExportFormat): Promise<void> {
  const occupied: string[] = []
  for (const plan of plans) {
    const directory = await walkDirectories(to, plan.components, false)
    const places = format === 'maildir' ? [join(directory, 'cur'), join(directory, 'new')] : [directory]
    for (const place of places) {
      const entries = await listNames(place)
      if (entries.some((name) => !name.startsWith('.') && (format === 'maildir' || name.toLowerCase().endsWith('.eml')))) occupied.push(place)
    }
  }
  if (occupied.length > 0) {
    const more = occupied.length > 1 ? ` (and ${occupied.length - 1} more)` : ''
    throw new MailkeepError(`'${occupied[0]}' already holds messages${more}; nothing was exported`, {
      hint: 'export to an empty directory, or pass --force to replace files of the same name',
    })
  }
}

async function exportFolder(plan: FolderPlan, to: string, format: ExportFormat, store: AccountStore, report: ExportFolderReport, ctx: RunContext): Promise<void> {
  const folder = await store.folder(plan.folder)
  try {
    const directory = await walkDirectories(to, plan.components, true)
    const task = ctx.progress.start(`export ${plan.folder}`, {messages: folder.messages.length})
    ctx.logger.info(`Exporting folder '${plan.folder}' to '${directory}'`, {folder: plan.folder})
    try {
      const writer = format === 'maildir' ? await maildirWriter(directory, folder) : emlWriter(directory)
      await exportMessages(folder, report, task, ctx, writer)
    } finally {
      task.done()
    }
  } finally {
    await folder.close()
  }
}

type MessageWriter = (message: ExportMessage) => Promise<void>

function emlWriter(directory: string): MessageWriter {
  return async (message) => {
    const name = emlFileName(message.uid)
    await writeThenRename(join(directory, temporaryName(name)), join(directory, name), [message.bytes], message.receivedAt)
  }
}

/**
 * Maildir delivery (https://cr.yp.to/proto/maildir.html): write in `tmp/`, then rename into
 * `cur/` with the flags as `:2,` info; `new/` stays empty (every message has been seen by a
 * mail client, flags or not). A file of an earlier export of the same message (same unique
 * part, other flags) is removed once the new one is in place.
 */
async function maildirWriter(directory: string, folder: FolderStore): Promise<MessageWriter> {
  for (const sub of MAILDIR_SUBDIRECTORIES) await walkDirectories(directory, [sub], true)
  const earlier = new Map<string, string[]>()
  for (const sub of ['cur', 'new']) {
    for (const name of await listNames(join(directory, sub))) {
      const unique = maildirUniquePart(name)
      earlier.set(unique, [...(earlier.get(unique) ?? []), join(directory, sub, name)])
    }
  }
  const uidValidity = folder.uidValidity ?? 0
  return async (message) => {
    const unique = maildirBaseName(message.uid, uidValidity, message.receivedAt)
    const target = join(directory, 'cur', unique + maildirInfo(message.flags))
    const temporary = join(directory, 'tmp', `${unique}.${randomBytes(6).toString('hex')}`)
    await writeThenRename(temporary, target, [message.bytes], message.receivedAt)
    for (const old of earlier.get(unique) ?? []) if (old !== target) await removeIfPresent(old)
  }
}

/** Names in a directory; none when it does not exist. A symlink or file there is refused. */
async function listNames(directory: string): Promise<string[]> {
  const {kind} = await pathInfo(directory)
  if (kind === 'missing') return []
  if (kind !== 'directory') throw inTheWay(directory, kind)
  try {
    return await readdir(directory)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return []
    throw localIoError(error, 'list', directory)
  }
}
