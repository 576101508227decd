/**
 * `runTransfer`: copy, mirror and migrate from one account's backup to another account
 * (docs/commands/copy-mirror-migrate.md, compat §8).
 *
 * - copy: back up the source (its flags refreshed, as `backup --refresh`), then an additive
 *   one-way sync: what the backup has and the destination does not is uploaded, flags of earlier
 *   copies follow the backup (so the source server's), messages that exist only on the
 *   destination are kept.
 * - mirror: as copy, and copies whose source message is gone from the backup are deleted on the
 *   destination. Unlike imap-backup, nothing else is ever deleted: a first run does not empty the
 *   destination folder; messages already there that are byte-identical copies of source messages
 *   are adopted into the map instead of being uploaded again; all others are kept.
 * - migrate: no backup first; every backed-up message is uploaded once (a map makes it
 *   idempotent, unlike imap-backup, issue #188); `--reset --yes` empties each destination folder
 *   first.
 *
 * All three use the `.mirror` map files (compat §4.7) and read the backup only (shared lock plus
 * the upload lock).
 */
import type {Account, Config} from '../../config/index.js'
import type {ImapSession} from '../../imap/types.js'
import {stopError, throwIfAborted, type RunContext} from '../../shared/context.js'
import {ConfigError, RemoteError, UsageError} from '../../shared/errors.js'
import type {AccountLock} from '../../store/lock.js'
import type {AccountStore} from '../../store/account-store.js'
import type {FolderStore} from '../../store/folder-store.js'
import {acquireUploadLock, type UploadMap} from '../../store/upload-map.js'
import {openAccountStore} from '../access/account-access.js'
import {runBackup} from '../backup/backup.js'
import {inboxStaysInbox, isInbox, splitName, trimPrefix, type NamingSide} from './folder-mapping.js'
import {FailureLog} from '../access/report.js'
import {retryPolicy} from '../access/retry.js'
import {accountSessionPool} from '../access/account-session.js'
import type {SessionPool} from '../access/session-pool.js'
import {SourceNaming} from './source-naming.js'
import {finishedReport, releaseRun, runFolders, startedReport} from './run.js'
import type {RunEnv} from './run-folder.js'
import type {RunNaming} from './run-naming.js'
import {linkOptions} from './link-options.js'
import {personalNamespace, probeNamespace} from './namespace.js'
import {statusCreating} from './status-creating.js'
import {DEFAULT_UPLOAD_TUNING, type TransferFolderReport, type TransferOptions, type TransferReport} from './types.js'
import type {UploadPolicy} from './folder-upload-input.js'

const EXPLICIT = [
  ['sourcePrefix', 'source-prefix'],
  ['sourceDelimiter', 'source-delimiter'],
  ['destinationPrefix', 'destination-prefix'],
  ['destinationDelimiter', 'destination-delimiter'],
] as const

const POLICIES: Record<TransferOptions['command'], UploadPolicy> = {
  copy: {syncFlags: true, deleteGone: false, reuploadMissing: false, sameUidsAreCopies: false},
  mirror: {syncFlags: true, deleteGone: true, reuploadMissing: true, sameUidsAreCopies: false},
  migrate: {syncFlags: false, deleteGone: false, reuploadMissing: false, sameUidsAreCopies: false},
}

/** The checks imap-backup makes before anything is done (compat §8 "Common setup", §3.6). */
export function checkTransferOptions(options: TransferOptions): {source: Account; destination: Account} {
  if (options.automaticNamespaces === true) {
    for (const [key, flag] of EXPLICIT) if (options[key] !== undefined) throw new UsageError(`--automatic-namespaces is incompatible with --${flag}`)
  }
  if (options.reset === true && options.command !== 'migrate') throw new UsageError('--reset is a migrate option')
  if (options.reset === true && options.confirmed !== true) {
    throw new UsageError('--reset deletes every message of each destination folder before uploading', {hint: 'add --yes to confirm'})
  }
  const source = accountNamed(options.config, options.source)
  const destination = accountNamed(options.config, options.destination)
  if (source.username === destination.username) throw new UsageError('Source and destination accounts cannot be the same!')
  for (const account of [source, destination]) {
    if (account.status !== 'active' && account.status !== 'archived') {
      throw new ConfigError(`Account '${account.username}' is not available for migration (status: ${account.status})`, {
        hint: `set "status": "active" (or "archived") for it in '${options.config.path}'`,
      })
    }
  }
  return {source, destination}
}

export async function runTransfer(options: TransferOptions, ctx: RunContext): Promise<TransferReport> {
  const started = Date.now()
  throwIfAborted(ctx.signal)
  const {source, destination} = checkTransferOptions(options)
  const {config, command} = options
  const logger = ctx.logger.child({account: source.username})
  const retry = retryPolicy(options.retry)
  const failures = new FailureLog()

  let backup: TransferReport['backup']
  if (command !== 'migrate') {
    if (command === 'mirror' && !source.mirrorMode) logger.warn(`The account '${source.username}' is not set up to make mirror backups`)
    if (source.status === 'archived') {
      logger.warn(`Account '${source.username}' is archived: it is not backed up first; its existing backup is ${command === 'copy' ? 'copied' : 'mirrored'}`)
    } else {
      // refresh: the flags of the backup follow the server's, so that flag changes on the source
      // reach the destination (step 2 of copy). With CONDSTORE only what changed since the last
      // run is fetched (RFC 7162 CHANGEDSINCE), and an unchanged folder is not even selected.
      backup = await runBackup({config, accounts: [source.username], refresh: true, ...linkOptions(options)}, ctx)
      failures.record(backup.exitCode)
    }
  }

  let store: AccountStore | undefined
  let lock: AccountLock | undefined
  let pool: SessionPool | undefined
  try {
    store = await openAccountStore(config, source, 'read', ctx)
    lock = await acquireUploadLock(store.root)
    const names = (await store.listFolders()).map((f) => f.name)
    logger.info(`${command === 'copy' ? 'Copying' : command === 'mirror' ? 'Mirroring' : 'Migrating'} account '${source.username}' to '${destination.username}'`)
    pool = await accountSessionPool(config, destination, ctx, {...linkOptions(options), retry})
    const session = await pool.open()
    const destinationNs = await personalNamespace(session)
    const naming = transferNaming(options, ctx, source, destinationNs)
    const report = startedReport(command, source.username, destination.username, naming, backup)
    const env: RunEnv = {
      store,
      pool,
      kind: 'mirror',
      user: destination.username,
      sourceUser: source.username,
      policy: POLICIES[command],
      tuning: {...DEFAULT_UPLOAD_TUNING, ...options.tuning},
      retry,
      ctx,
      logger,
      failures,
    }
    // Destination folders --reset emptied in this run: a kept-aside backup goes into the same
    // folder as the folder it was moved away from (store/kept-aside.ts), after it, and must not delete
    // what that folder's upload just put there.
    const emptiedFolders = new Set<string>()
    report.folders = await runFolders(env, names, naming, (target) => {
      let reset = false
      return async (s, folder, map, folderReport) => {
        await ensureFolder(s, target, folderReport, destinationNs)
        if (options.reset === true && !reset) {
          // Once per run: a retry after a broken link must not delete what this run uploaded.
          await emptyFolder(s, folder, map, destination.username, target, folderReport, !emptiedFolders.has(target))
          emptiedFolders.add(target)
          reset = true
        }
        return {destination: target}
      }
    })
    return finishedReport(report, naming, failures, started)
  } catch (error) {
    throw stopError(error, ctx.signal)
  } finally {
    await releaseRun({pool, lock, store}, ctx.signal, logger)
  }
}

/**
 * copy/mirror/migrate naming (docs/delimiters-and-prefixes.md):
 * - `--automatic-namespaces`: both sides from NAMESPACE (RFC 2342), first personal namespace;
 *   on the source side what each folder's backup recorded comes first (the names are that
 *   server's), and the source server must answer for folders that record nothing;
 * - otherwise prefixes default to '' (imap-backup), the destination delimiter to the destination
 *   server's, and the source delimiter is `--source-delimiter`, else the one each folder's backup
 *   recorded, else the source server's (asked only then), else '/' (source-naming.ts).
 */
function transferNaming(options: TransferOptions, ctx: RunContext, source: Account, destinationNs: NamingSide): RunNaming {
  const automatic = options.automaticNamespaces === true
  const sourceNaming = new SourceNaming({
    delimiter: options.sourceDelimiter,
    prefix: options.sourcePrefix,
    prefixFromServer: automatic,
    strict: automatic,
    live: () => probeNamespace(options.config, source, ctx, linkOptions(options)),
    account: source.username,
    logger: ctx.logger.child({account: source.username}),
  })
  if (automatic) return {source: sourceNaming, destination: destinationNs, inboxToInbox: true}
  const destinationDelimiter = options.destinationDelimiter ?? (destinationNs.delimiter === '' ? '/' : destinationNs.delimiter)
  const destinationPrefix = options.destinationPrefix ?? ''
  return {
    source: sourceNaming,
    destination: {prefix: destinationPrefix, delimiter: destinationDelimiter},
    inboxToInbox: inboxStaysInbox(destinationPrefix, destinationDelimiter, destinationNs.prefix),
  }
}

/**
 * Creates the destination folder when missing. copy, mirror and migrate keep imap-backup's
 * default destination prefix (`''`), so on a server whose personal namespace has a prefix
 * (`INBOX.` on Courier, and on Cyrus and Dovecot set up that way) every name but INBOX lies
 * outside it and the server refuses to create it ("Invalid mailbox name", "Client tried to access
 * nonexistent namespace", "Permission denied"): that refusal says how to name the folders.
 */
async function ensureFolder(session: ImapSession, name: string, report: TransferFolderReport, personal: NamingSide): Promise<void> {
  try {
    if ((await statusCreating(session, name)).created) report.created = true
  } catch (error) {
    const prefix = trimPrefix(personal.prefix, personal.delimiter)
    if (!(error instanceof RemoteError) || prefix === '' || isInbox(name) || splitName(name, personal.delimiter)[0] === prefix) throw error
    throw new RemoteError(error.message, {
      cause: error,
      hint: `'${name}' is outside the destination's personal namespace '${personal.prefix}', where its folders must be: add --automatic-namespaces, or --destination-prefix '${personal.prefix}' (docs/delimiters-and-prefixes.md)`,
    })
  }
}

/**
 * migrate --reset: every message of the destination folder goes (compat §8), unless this run
 * emptied it already (`empty` false), and the map starts afresh.
 */
async function emptyFolder(session: ImapSession, folder: FolderStore, map: UploadMap, user: string, name: string, report: TransferFolderReport, empty: boolean): Promise<void> {
  const opened = await session.select(name)
  if (empty && opened.exists > 0) {
    await session.storeFlags('1:*', ['\\Deleted'], 'add')
    await session.expunge()
    report.deleted += opened.exists
  }
  map.reset(user, name, folder.uidValidity!, opened.uidValidity)
  await map.sync()
}

function accountNamed(config: Config, email: string): Account {
  const account = config.accounts.find((a) => a.username === email)
  if (account === undefined) throw new ConfigError(`Account '${email}' does not exist`, {hint: `accounts in '${config.path}': ${config.accounts.map((a) => a.username).join(', ') || 'none'}`})
  return account
}
