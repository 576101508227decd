/** What backupFolder (folder-backup.ts) is given for one folder and what it returns. */
import type {Account, Config} from '../../config/index.js'
import type {FolderStatus, ImapSession} from '../../imap/types.js'
import type {AccountStore} from '../../store/account-store.js'
import type {RunContext} from '../../shared/context.js'
import type {Logger} from '../../shared/logger.js'
import type {FolderReport, RetryPolicy} from './types.js'
import type {SessionPool} from '../access/session-pool.js'
import type {PlaceholderGuard} from './placeholder-guard.js'


export interface FolderEnv {
  store: AccountStore
  pool: SessionPool
  account: Account
  config: Config
  refresh: boolean
  retry: RetryPolicy
  ctx: RunContext
  /** The account's logger (bound to `account`). */
  logger: Logger
  /**
   * The server's personal namespace prefix (RFC 2342), asked once per run and only when a folder
   * has none recorded yet (account-backup.ts).
   */
  personalPrefix(session: ImapSession): Promise<string>
  /** Which backups are older than ignore-history placeholders (B5), as this run changes it. */
  guard: PlaceholderGuard
}

export interface FolderJob {
  name: string
  /** From LIST-STATUS, when the server has it. */
  status?: FolderStatus
  /** LIST's hierarchy delimiter for this name (null: a flat name); recorded with the folder. */
  delimiter?: string | null
}

export interface FolderResult {
  report: FolderReport
  /** A local I/O error (disk full): the run must end. */
  stop?: boolean
  /** Retries ran out without even a connection: the server cannot be reached now. */
  unreachable?: boolean
}
