/**
 * `utils ignore-history EMAIL` (compat §2.2): mark everything a folder holds today as "backed
 * up" without downloading it, so that later backups fetch only newer mail.
 *
 * For each folder selected for backup (compat §6.2) that exists on the server:
 *   1. EXAMINE; apply its UIDVALIDITY as a backup does (a new folder starts empty, a changed
 *      UIDVALIDITY moves the old backup aside, compat §4.6);
 *   2. `UID SEARCH ALL`; for every UID below the UIDNEXT of that EXAMINE that is not stored,
 *      append a dummy message (imap-backup's exact text, compat §9.2 item 117);
 *   3. record that UIDNEXT as the folder's server state: every UID below it is now stored, which
 *      is what a stored UIDNEXT means (folder-plan.ts), so the next backup asks only for
 *      `UID SEARCH UID <uidnext>:*` or skips the folder from STATUS alone; and the folder's
 *      naming (LIST delimiter, namespace prefix), as a backup records it.
 * All of it in ONE transaction per folder (imap-backup rewrites the metadata per message).
 *
 * Before the first placeholder, every local folder is recorded as older than the placeholders
 * about to be written (placeholder-guard.ts), and after the run only those that got some stay
 * named: a placeholder says nothing of the message it stands for, so mirror mode keeps a folder
 * the server no longer has while its backup is older than placeholders (docs/backup.md, B5).
 *
 * UIDs at or above UIDNEXT arrived after the EXAMINE: they are new mail, left for the backup.
 * A folder that fails on its own (its local path cannot be made, its backup is damaged, the
 * server refuses it) is reported with its error and the others go on, as in a backup (the run
 * exits 4 or the folder's specific code, access/report.ts); what concerns every folder (the disk, the
 * connection, an interruption) ends the run. Folders done before stay done; running the command
 * again is harmless (stored UIDs are never written twice).
 */
import {selectFolders, type Account, type Config} from '../../config/index.js'
import type {ImapSession, OpenedFolder} from '../../imap/types.js'
import {FolderStore} from '../../store/folder-store.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderServerState} from '../../store/metadata.js'
import {dummyMessage} from '../../store/placeholders.js'
import {MissingFolderError} from '../../shared/errors.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {isStop, throwIfAborted, type RunContext} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import {findAccount, openAccountStore} from '../access/account-access.js'
import {personalPrefixOnce} from './account-backup.js'
import {missingOf, validUidNext} from './folder-plan.js'
import {withAccountSession, type RemoteQuery} from '../access/remote-session.js'
import type {ErrorSummary} from '../access/types.js'
import {endsRun, FailureLog, folderSummary} from '../access/report.js'
import {isRetryable} from '../access/retry.js'
import {recordMovedAside, withPlaceholders} from './placeholder-guard.js'
import {readPlaceholderRecord, sameRecord, writePlaceholderRecord, type PlaceholderRecord} from '../../store/placeholder-record.js'

export interface IgnoredFolder {
  folder: string
  /** Dummy messages written in this run. */
  ignored: number
  /** The UIDNEXT recorded: later backups look only at UIDs from here on. */
  uidNext?: number
  /** Set when the UIDVALIDITY changed: the server name of the moved-aside old backup. */
  renamedTo?: string
  /** The folder failed on its own: why (what it stored up to its last savepoint stays). */
  error?: ErrorSummary
}

export interface IgnoreHistoryReport {
  account: string
  folders: IgnoredFolder[]
  /** 0, or the first failed folder's code (INCOMPLETE unless a specific one, access/report.ts). */
  exitCode: ExitCodeValue
}

export async function ignoreHistory(query: RemoteQuery, ctx: RunContext): Promise<IgnoreHistoryReport> {
  const account = findAccount(query.config, query.email)
  const logger = ctx.logger.child({account: account.username})
  const report: IgnoreHistoryReport = {account: account.username, folders: [], exitCode: ExitCode.OK}
  const failures = new FailureLog()
  // The exclusive lock first: no backup may run meanwhile, and a locked account costs no login.
  const store = await openAccountStore(query.config, account, 'write', ctx)
  try {
    await withAccountSession(query, account, ctx, async (session) => {
      const listed = (await session.listFolders()).filter((f) => !f.noselect)
      const names = selectFolders(
        listed.map((f) => f.name),
        account,
      )
      if (names.length === 0) logger.warn(`No folders found to backup for account '${account.username}'`)
      const delimiters = new Map(listed.map((f) => [f.name, f.delimiter]))
      const personalPrefix = personalPrefixOnce(logger)
      // Recorded before any placeholder is written (placeholder-guard.ts). A damaged record ends
      // the run: merging into it could drop what it protects (docs/commands/utils.md).
      const read = await readPlaceholderRecord(store.root)
      const locals = (await store.listFolders()).map((f) => f.name)
      const planned = withPlaceholders(read, locals, new Set(names))
      if (!sameRecord(planned, read)) await writePlaceholderRecord(store.root, planned)
      for (const name of names) {
        throwIfAborted(ctx.signal)
        try {
          const done = await ignoreFolder({session, store, account, config: query.config, ctx, logger, personalPrefix, record: planned}, name, delimiters.get(name))
          if (done !== undefined) report.folders.push(done)
        } catch (error) {
          if (!ownFailure(error, ctx)) throw error
          const summary = folderSummary(error)
          report.folders.push({folder: name, ignored: 0, error: summary})
          failures.record(summary.exitCode)
          const hint = summary.hint === undefined ? '' : ` (${summary.hint})`
          logger.error(`[${name}] ignore-history failed: ${summary.message}${hint}`, {folder: name})
        }
      }
      // The run went through: only the folders that got placeholders (a failed one may have kept
      // some up to its last savepoint) stay named, and a backup moved aside under its new name.
      // An interruption leaves the record as planned, which keeps more, never less.
      const into = new Set(report.folders.filter((f) => f.ignored > 0 || f.error !== undefined).map((f) => f.folder))
      const moved = new Map(report.folders.flatMap((f): Array<[string, string]> => (f.renamedTo === undefined ? [] : [[f.folder, f.renamedTo]])))
      const done = withPlaceholders(read, locals, into, moved)
      if (!sameRecord(done, planned)) await writePlaceholderRecord(store.root, done)
    })
  } finally {
    await store.close()
  }
  report.exitCode = failures.exitCode
  return report
}

/**
 * Whether `error` concerns its folder alone, so that the next folder can go on: not an
 * interruption, not the disk as a whole (endsRun), not a broken connection (the session the
 * next folder would use).
 */
function ownFailure(error: unknown, ctx: RunContext): boolean {
  return !isStop(error, ctx.signal) && !endsRun(error) && !isRetryable(error)
}

interface FolderEnv {
  session: ImapSession
  store: AccountStore
  account: Account
  config: Config
  ctx: RunContext
  logger: Logger
  personalPrefix(session: ImapSession): Promise<string>
  /** The placeholder record as written before any placeholder (placeholder-guard.ts). */
  record: PlaceholderRecord
}

async function ignoreFolder(env: FolderEnv, name: string, delimiter: string | null | undefined): Promise<IgnoredFolder | undefined> {
  const {session, ctx, logger} = env
  let opened: OpenedFolder
  try {
    opened = await session.examine(name)
  } catch (error) {
    if (!(error instanceof MissingFolderError)) throw error
    logger.warn(`Folder '${name}' does not exist on server`, {folder: name})
    return undefined
  }
  const result: IgnoredFolder = {folder: name, ignored: 0}
  const folder = await FolderStore.open(env.store.root, name, {mode: 'write', logger, account: env.account.username})
  try {
    if (!folder.exists) await folder.initialize(opened.uidValidity)
    else if (folder.uidValidity !== opened.uidValidity && !(await folder.restartEmpty(opened.uidValidity))) {
      const old = folder.uidValidity
      result.renamedTo = await folder.renameAway({beforeRename: (target) => recordMovedAside(env.store.root, env.record, name, target)})
      logger.info(`[${name}] UIDVALIDITY changed from ${old} to ${opened.uidValidity}; the old backup is now '${result.renamedTo}'`, {folder: name})
      await folder.initialize(opened.uidValidity)
    }
    const uidNext = validUidNext(opened.uidNext) ? opened.uidNext : undefined
    if (uidNext !== undefined) result.uidNext = uidNext
    const found = opened.exists === 0 ? [] : await session.searchUids()
    const missing = missingOf(
      uidNext === undefined ? found : found.filter((uid) => uid < uidNext),
      (uid) => folder.has(uid),
    )
    logger.info(`Folder '${name}' - ${missing.length} messages`, {folder: name})
    const stored = folder.serverState
    const naming: FolderServerState = {}
    if (delimiter !== undefined && (delimiter ?? '') !== stored.delimiter) naming.delimiter = delimiter ?? ''
    if (stored.prefix === undefined) naming.prefix = await env.personalPrefix(session)
    // The server state is what a backup would record (docs/backup.md, "What the store
    // remembers"), so that the next backup can skip the folder from STATUS. Flags are current
    // up to HIGHESTMODSEQ (`flagsModseq`, B4) only when every stored entry is a placeholder
    // written now: messages kept from earlier runs have the flags they had then.
    const modseq = opened.highestModseq
    const state: FolderServerState = {...naming}
    if (uidNext !== undefined) state.uidNext = uidNext
    if (modseq !== undefined) {
      state.highestModseq = modseq
      if (folder.messages.length === 0) state.flagsModseq = modseq
    }
    const stateChanges =
      (uidNext !== undefined && stored.uidNext !== uidNext) ||
      (modseq !== undefined && stored.highestModseq !== modseq) ||
      naming.delimiter !== undefined ||
      naming.prefix !== undefined
    if (missing.length === 0 && !stateChanges) return result
    const {tuning} = env.config
    // delay_metadata whatever the configured strategy: dummies are cheap to write again, so
    // per-message savepoints (`direct`) would only cost fsyncs.
    const tx = await folder.begin({
      strategy: 'delay_metadata',
      savepointMessages: tuning.savepointMessages,
      savepointBytes: tuning.savepointBytes,
      savepointSeconds: tuning.savepointSeconds,
    })
    const task = missing.length > 0 ? ctx.progress.start(`${env.account.username}: ${name}`, {messages: missing.length}) : undefined
    try {
      for (const uid of missing) {
        throwIfAborted(ctx.signal)
        await tx.append({uid, flags: [], internalDate: null}, dummyMessage(uid))
        task?.advance(1)
      }
      tx.setServerState(state)
      await tx.commit()
    } finally {
      // On an error or an interruption: back to the last savepoint (close() rolls back).
      task?.done()
    }
    result.ignored = missing.length
    return result
  } finally {
    await folder.close()
  }
}
