/**
 * `runRestore`: uploads an account's backup to its server, or to another configured account
 * (docs/commands/restore.md). Every local folder, the `-<uidvalidity>` copies a UIDVALIDITY change
 * left included (compat §7), or the ones asked for.
 *
 * The backup is only read: it is opened with the shared lock (so no backup can write it meanwhile)
 * and the upload lock is taken for the `.restore` maps. Idempotent: a second run uploads nothing
 * (folder-upload.ts, docs/upload-maps.md). Account status is not looked at (compat §3.6).
 */
import type {Account} from '../../config/index.js'
import {stopError, throwIfAborted, type RunContext} from '../../shared/context.js'
import {UsageError} from '../../shared/errors.js'
import {acquireUploadLock} from '../../store/upload-map.js'
import type {AccountLock} from '../../store/lock.js'
import type {AccountStore} from '../../store/account-store.js'
import {findAccount, openAccountStore} from '../access/account-access.js'
import {inboxStaysInbox} from './folder-mapping.js'
import {FailureLog} from '../access/report.js'
import {retryPolicy} from '../access/retry.js'
import {accountSessionPool} from '../access/account-session.js'
import type {SessionPool} from '../access/session-pool.js'
import {chooseRestoreTarget} from './restore-target.js'
import {SourceNaming} from './source-naming.js'
import {finishedReport, releaseRun, runFolders, startedReport} from './run.js'
import type {RunEnv} from './run-folder.js'
import type {RunNaming} from './run-naming.js'
import {linkOptions} from './link-options.js'
import {personalNamespace, probeNamespace} from './namespace.js'
import {DEFAULT_UPLOAD_TUNING, type RestoreOptions, type TransferReport} from './types.js'

export async function runRestore(options: RestoreOptions, ctx: RunContext): Promise<TransferReport> {
  const started = Date.now()
  throwIfAborted(ctx.signal)
  const {config} = options
  const source = findAccount(config, options.account)
  const destination = options.to === undefined ? source : findAccount(config, options.to)
  const ownServer = destination.username === source.username
  const logger = ctx.logger.child({account: source.username})
  const retry = retryPolicy(options.retry)
  const failures = new FailureLog()

  let store: AccountStore | undefined
  let lock: AccountLock | undefined
  let pool: SessionPool | undefined
  try {
    store = await openAccountStore(config, source, 'read', ctx)
    lock = await acquireUploadLock(store.root)
    const local = await store.listFolders()
    const names = selectLocal(
      local.map((f) => f.name),
      options.folders,
    )
    if (names.length === 0) logger.warn(`No folders found to restore for account '${source.username}'`)
    logger.info(`Restoring account '${source.username}'${ownServer ? '' : ` to account '${destination.username}'`}`)

    pool = await accountSessionPool(config, destination, ctx, {...linkOptions(options), retry})
    const session = await pool.open()
    const naming = restoreNaming(options, ctx, source, ownServer, await personalNamespace(session))
    const report = startedReport('restore', source.username, destination.username, naming)
    const env: RunEnv = {
      store,
      pool,
      kind: 'restore',
      user: destination.username,
      sourceUser: source.username,
      policy: {syncFlags: false, deleteGone: false, reuploadMissing: true, sameUidsAreCopies: ownServer},
      tuning: {...DEFAULT_UPLOAD_TUNING, ...options.tuning},
      retry,
      ctx,
      logger,
      failures,
    }
    const backup = store
    report.folders = await runFolders(env, names, naming, (target) => (s, folder, map, folderReport) =>
      chooseRestoreTarget({session: s, store: backup, folder, map, user: destination.username, name: target, destination: naming.destination, ownServer, report: folderReport, signal: ctx.signal}),
    )
    return finishedReport(report, naming, failures, started)
  } catch (error) {
    throw stopError(error, ctx.signal)
  } finally {
    await releaseRun({pool, lock, store}, ctx.signal, logger)
  }
}

/**
 * Restore's naming (docs/delimiters-and-prefixes.md): the source side of each folder is what its
 * backup records, else `--source-delimiter`/the source server's namespace (source-naming.ts);
 * the destination defaults to its server's personal namespace, `--prefix` and `--delimiter`
 * replace it.
 */
function restoreNaming(options: RestoreOptions, ctx: RunContext, source: Account, ownServer: boolean, destinationNs: {prefix: string; delimiter: string}): RunNaming {
  const sourceNaming = new SourceNaming({
    delimiter: options.sourceDelimiter,
    prefixFromServer: true,
    strict: false,
    // Asked only for folders whose backup records no naming; one short connection, no retries.
    live: ownServer ? () => Promise.resolve(destinationNs) : () => probeNamespace(options.config, source, ctx, options),
    account: source.username,
    logger: ctx.logger.child({account: source.username}),
  })
  const delimiter = options.delimiter ?? (destinationNs.delimiter === '' ? '/' : destinationNs.delimiter)
  const prefix = options.prefix ?? destinationNs.prefix
  return {
    source: sourceNaming,
    destination: {prefix, delimiter},
    inboxToInbox: inboxStaysInbox(prefix, delimiter, destinationNs.prefix),
  }
}

/** The local folders asked for, in backup order; an unknown name is a usage error. */
function selectLocal(local: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (wanted === undefined || wanted.length === 0) return [...local]
  const known = new Set(local)
  const missing = wanted.find((w) => !known.has(w))
  if (missing !== undefined) throw new UsageError(`Folder '${missing}' not found`, {hint: '`mailkeep local folders EMAIL` lists the folders of the backup'})
  const set = new Set(wanted)
  return local.filter((name) => set.has(name))
}
