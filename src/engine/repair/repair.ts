/**
 * `mailkeep local repair EMAIL [FOLDER]` (docs/repair.md): rebuilds a folder's damaged or missing
 * `.imap` from its mbox, with UIDs and flags recovered from the server when it can be reached.
 *
 * Explicit by design (design.md I6): it is the one command that rewrites metadata it did not
 * just write, and it never deletes anything: the old `.imap` (and a stale journal) are set aside
 * as `<P>.imap.damaged-<UTC timestamp>`, a torn last entry is copied to
 * `<P>.mbox.torn-<UTC timestamp>` before the mbox is cut. It holds the account's exclusive lock
 * (I5); `--dry-run` holds only the shared lock, asks the server the same read-only questions and
 * writes nothing.
 *
 * What it does per folder, from `local check`'s findings:
 * - nothing wrong: nothing;
 * - only an interrupted run (journal, rename, rewrite): opens the folder for writing, which
 *   finishes it exactly as the next backup would;
 * - the mbox is longer than the metadata (imap-backup crashed, compat §5.4): the extra complete
 *   entries are indexed (matched to server UIDs); the existing entries are kept as they are;
 * - anything else that leaves the mbox: a full rebuild (scan, salvage, match, exactness);
 * - the mbox is gone but `.imap` lists messages: the `.imap` is set aside (nothing can be
 *   rebuilt; the next backup downloads again what the server still has);
 * - symlinks, non-files, unreadable files, a newer format: refused with the reason.
 */
import {exists} from '../../store/file-ops.js'
import {checkAccount} from '../../store/integrity.js'
import {requireLocalPath, selectAccounts, type Account} from '../../config/index.js'
import {throwIfAborted, type RunContext} from '../../shared/context.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {openAccountStore} from '../access/account-access.js'
import {folderNotFound, selectLocalFolders} from '../inspect/local-access.js'
import {repairCommand} from '../inspect/repair-command.js'
import type {RepairOptions, RepairReport} from './types.js'
import {ServerLink} from './server-link.js'
import {FolderRepair} from './folder-repair.js'

export type {FolderAction, FolderRepairReport, KeptMessage, RepairOptions, RepairReport, UidSource} from './types.js'

export async function repairAccount(options: RepairOptions, ctx: RunContext): Promise<RepairReport> {
  const [account] = selectAccounts(options.config, [options.account]) as [Account]
  const report: RepairReport = {account: account.username, dryRun: options.dryRun, server: 'not-needed', serverError: null, folders: [], exitCode: ExitCode.OK}
  const root = requireLocalPath(options.config, account)
  if (!(await exists(root))) {
    if (options.folder !== undefined) throw folderNotFound(options.folder, account)
    return report
  }
  const store = await openAccountStore(options.config, account, options.dryRun ? 'read' : 'write', ctx)
  const server = new ServerLink(options, account, ctx)
  try {
    const repair = (folder: string): string => repairCommand(account.username, folder, {configFlag: options.configFlag})
    const folders = selectLocalFolders(await checkAccount(store.root, {repairCommand: repair, signal: ctx.signal}), options.folder, account)
    for (const folder of folders) {
      throwIfAborted(ctx.signal)
      const job = new FolderRepair(options, store, server, folder.name, folder.relativePath, folder.findings, repair, ctx)
      report.folders.push(await job.run())
    }
  } finally {
    await server.close()
    await store.close()
  }
  report.server = server.state
  report.serverError = server.error ?? null
  report.exitCode = exitCodeOf(report)
  return report
}

function exitCodeOf(report: RepairReport): ExitCodeValue {
  if (report.dryRun) return ExitCode.OK
  const stillDamaged = report.folders.some((f) => f.after.some((x) => x.severity === 'error'))
  if (stillDamaged) return report.folders.some((f) => f.after.some((x) => x.severity === 'error' && x.code !== 'newer-format')) ? ExitCode.DAMAGED : ExitCode.UNSUPPORTED_FORMAT
  return report.folders.some((f) => f.uids === 'unverified') ? ExitCode.INCOMPLETE : ExitCode.OK
}
