/**
 * `mailkeep local requote EMAIL [FOLDER] [--dry-run]` (docs/commands/local.md): converts the
 * entries mailkeep 0.1.0 wrote with its strict quoting rule to the current one, so that
 * imap-backup reads those messages right too (docs/mbox-format.md, "Quoting"). mailkeep itself
 * reads both kinds exactly, so nothing needs this; it exists for backups that imap-backup will
 * read. Explicit by design (design.md I6): only this command rewrites those entries, each one
 * checked to read back as the same message; the folder is rewritten once, as a mirror-mode
 * deletion is (design.md, Recovery step 1). It holds the account's exclusive lock (I5);
 * `--dry-run` holds nothing more than a reader and writes nothing.
 */
import {requireLocalPath, selectAccounts, type Account, type Config} from '../../config/index.js'
import {throwIfAborted, type RunContext} from '../../shared/context.js'
import {MailkeepError} from '../../shared/errors.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {exists} from '../../store/file-ops.js'
import type {RequoteResult} from '../../store/folder-store.js'
import {openAccountStore} from '../access/account-access.js'
import {folderNotFound, selectLocalFolders} from '../inspect/local-access.js'

export interface RequoteOptions {
  config: Config
  /** The account (username). */
  account: string
  /** One folder (server name); default: every folder of the account. */
  folder?: string
  dryRun: boolean
}

export interface FolderRequoteReport extends RequoteResult {
  name: string
  /** Why the folder was not converted (it could not be opened, or an entry did not read back). */
  error: string | null
}

export interface RequoteReport {
  account: string
  dryRun: boolean
  folders: FolderRequoteReport[]
  /** 0 done (or nothing to do, or a dry run); the exit code of the first folder that failed otherwise. */
  exitCode: ExitCodeValue
}

export async function requoteAccount(options: RequoteOptions, ctx: RunContext): Promise<RequoteReport> {
  const [account] = selectAccounts(options.config, [options.account]) as [Account]
  const report: RequoteReport = {account: account.username, dryRun: options.dryRun, folders: [], exitCode: ExitCode.OK}
  const root = requireLocalPath(options.config, account)
  if (!(await exists(root))) {
    if (options.folder !== undefined) throw folderNotFound(options.folder, account)
    return report
  }
  const store = await openAccountStore(options.config, account, options.dryRun ? 'read' : 'write', ctx)
  try {
    for (const local of selectLocalFolders(await store.listFolders(), options.folder, account)) {
      throwIfAborted(ctx.signal)
      const entry: FolderRequoteReport = {name: local.name, strict: 0, rewritten: 0, bytesAdded: 0, error: null}
      report.folders.push(entry)
      try {
        const folder = await store.folder(local.name)
        try {
          Object.assign(entry, await folder.requote({dryRun: options.dryRun}))
        } finally {
          await folder.close()
        }
      } catch (error) {
        if (!(error instanceof MailkeepError) || ctx.signal.aborted) throw error
        entry.error = error.message
        if (report.exitCode === ExitCode.OK) report.exitCode = error.exitCode
      }
    }
  } finally {
    await store.close()
  }
  return report
}
