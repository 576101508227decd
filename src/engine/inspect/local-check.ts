/**
 * `mailkeep local check`: the integrity checker (src/store/integrity.ts) on every folder of the
 * selected accounts, without a lock: while a backup runs, it checks what that backup has
 * committed (docs/design.md, "Readers"). Nothing is written, not even to a damaged folder: the
 * findings say what is wrong and which command repairs it.
 *
 * The result keeps imap-backup's JSON shape (`[{account, folders: [{name, result}]}]`, `result`
 * "OK" or the first error) and adds every finding.
 */
import {selectAccounts, type Config} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import {throwIfAborted} from '../../shared/context.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import {checkAccount, type Finding, type FindingCode, type Severity} from '../../store/integrity.js'
import {liveWriterPid} from '../../store/writer-pid.js'
import {notStoredPath, readNotStored} from '../../store/not-stored.js'
import {openStoreIfPresent} from './local-access.js'
import {repairCommand} from './repair-command.js'

export interface CheckFinding {
  code: FindingCode
  severity: Severity
  message: string
  file: string
  /** The command that repairs it, or null when no mailkeep command can. */
  repair: string | null
  /** `not-byte-exact`: the UIDs of the messages that are read as imap-backup reads them. */
  uids?: number[]
}

export interface CheckedFolder {
  /** The server's folder name. */
  name: string
  /**
   * "OK" when there is no error (warnings may remain), else the first error's message; for a
   * folder the last backup could not store at all, why.
   */
  result: string
  findings: CheckFinding[]
}

export interface CheckedAccount {
  account: string
  folders: CheckedFolder[]
}

export interface LocalCheckOptions {
  config: Config
  /** `--accounts`: usernames (default: every configured account). */
  accounts?: readonly string[]
  /** `--config` as given, repeated in the repair commands. */
  configFlag?: string
}

export async function checkAccounts(options: LocalCheckOptions, ctx: RunContext): Promise<CheckedAccount[]> {
  const accounts = selectAccounts(options.config, options.accounts)
  const out: CheckedAccount[] = []
  for (const account of accounts) {
    throwIfAborted(ctx.signal)
    // An account without a backup path (or directory) has no backup to check.
    const store = account.localPath === undefined ? undefined : await openStoreIfPresent(options.config, account, ctx)
    if (store === undefined) {
      out.push({account: account.username, folders: []})
      continue
    }
    try {
      const repair = (folder: string): string => repairCommand(account.username, folder, {configFlag: options.configFlag})
      const writerPid = await liveWriterPid(store.root)
      const folders = await checkAccount(store.root, {repairCommand: repair, signal: ctx.signal, ...(writerPid === undefined ? {} : {writerPid})})
      out.push({account: account.username, folders: withNotStored(folders.map((f) => checkedFolder(f.name, f.findings)), await notStoredFindings(store.root))})
    } finally {
      await store.close()
    }
  }
  return out
}

/**
 * The folders the last backup could not store (src/store/not-stored.ts), as findings: a warning
 * on the folder, which is added to the list when it has no files at all (its result then says
 * why, instead of "OK"). A record that cannot be read is a warning of its own.
 */
async function notStoredFindings(root: string): Promise<Map<string, Finding>> {
  const out = new Map<string, Finding>()
  const file = notStoredPath(root)
  let entries
  try {
    entries = await readNotStored(root)
  } catch (error) {
    out.set('.', {code: 'unreadable', severity: 'warning', message: (error as Error).message, file, repair: undefined})
    return out
  }
  for (const entry of entries) {
    const hint = entry.hint === undefined ? '' : `; ${entry.hint}`
    const since = entry.since === entry.last ? `at the backup of ${entry.last}` : `at every backup since ${entry.since} (last: ${entry.last})`
    out.set(entry.name, {code: 'not-stored', severity: 'warning', message: `not backed up: this folder could not be stored ${since}: ${entry.error}${hint}`, file, repair: undefined})
  }
  return out
}

function withNotStored(folders: CheckedFolder[], notStored: ReadonlyMap<string, Finding>): CheckedFolder[] {
  for (const [name, finding] of notStored) {
    const shown = checkedFolder(name, [finding]).findings[0]!
    const known = folders.find((f) => f.name === name)
    if (known !== undefined) known.findings.push(shown)
    else folders.push({name, result: finding.message, findings: [shown]})
  }
  return folders
}

export function checkedFolder(name: string, findings: readonly Finding[]): CheckedFolder {
  const firstError = findings.find((f) => f.severity === 'error')
  return {
    name,
    result: firstError === undefined ? 'OK' : firstError.message,
    findings: findings.map((f) => ({code: f.code, severity: f.severity, message: f.message, file: f.file, repair: f.repair ?? null, ...(f.uids === undefined ? {} : {uids: f.uids})})),
  }
}

/**
 * The exit status of a check: 6 (DAMAGED) when any folder has an error, 7 when the only errors
 * are files of a newer mailkeep, else 0 (warnings do not fail a check).
 */
export function checkExitCode(accounts: readonly CheckedAccount[]): ExitCodeValue {
  const errors = accounts.flatMap((a) => a.folders.flatMap((f) => f.findings.filter((x) => x.severity === 'error')))
  if (errors.length === 0) return ExitCode.OK
  if (errors.every((e) => e.code === 'newer-format')) return ExitCode.UNSUPPORTED_FORMAT
  return ExitCode.DAMAGED
}
