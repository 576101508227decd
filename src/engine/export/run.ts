/**
 * The run both exports share (folders.ts: Maildir and .eml; thunderbird.ts): the folders
 * one after the other, each with its own report. A folder that fails is reported and the run
 * goes on with the next one; an interruption stops the run. A message that cannot be read is
 * reported with its UID and reason, never skipped silently.
 */
import {throwIfAborted, type ProgressTask, type RunContext} from '../../shared/context.js'
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'
import type {FolderStore} from '../../store/folder-store.js'
import {readFolderMessages, type ExportMessage} from './message.js'
import type {ExportFolderReport} from './types.js'
import {FailureLog, folderExitCode, folderSummary} from '../access/report.js'

/** What an export's report adds up over its folders. */
interface ExportTotals {
  folders: ExportFolderReport[]
  messages: number
  bytes: number
}

/**
 * Exports every planned folder with `exportOne` and returns the run's exit code. `exportOne`
 * fills the folder's report; one it leaves `skipped`, or with messages that could not be read,
 * makes the run incomplete; one that throws is reported as `failed`.
 */
export async function exportEachFolder<P extends {folder: string}>(
  plans: readonly P[],
  totals: ExportTotals,
  ctx: RunContext,
  pathOf: (plan: P) => string,
  exportOne: (plan: P, report: ExportFolderReport) => Promise<void>,
): Promise<ExitCodeValue> {
  const failures = new FailureLog()
  for (const plan of plans) {
    throwIfAborted(ctx.signal)
    const folderReport: ExportFolderReport = {folder: plan.folder, status: 'exported', path: pathOf(plan), messages: 0, bytes: 0, legacyMessages: 0, failedMessages: []}
    totals.folders.push(folderReport)
    try {
      await exportOne(plan, folderReport)
      if (folderReport.status === 'skipped' || folderReport.failedMessages.length > 0) failures.record(ExitCode.INCOMPLETE)
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      folderReport.status = 'failed'
      folderReport.error = folderSummary(error)
      failures.record(folderExitCode(error))
      ctx.logger.error(`export of folder '${plan.folder}' failed: ${folderReport.error.message}`, {folder: plan.folder})
    }
    totals.messages += folderReport.messages
    totals.bytes += folderReport.bytes
  }
  return failures.exitCode
}

/**
 * Hands every message of the folder to `write`, one at a time, and counts it in the folder's
 * report and in `task`; a message that cannot be read is logged and listed in the report.
 */
export async function exportMessages(
  folder: FolderStore,
  report: ExportFolderReport,
  task: ProgressTask,
  ctx: RunContext,
  write: (message: ExportMessage) => Promise<void>,
): Promise<void> {
  for await (const read of readFolderMessages(folder, ctx.signal)) {
    if (!read.ok) {
      report.failedMessages.push({uid: read.uid, reason: read.reason})
      ctx.logger.error(`message UID ${read.uid} of folder '${report.folder}' was not exported: ${read.reason}`, {folder: report.folder, uid: read.uid})
      continue
    }
    const {message} = read
    await write(message)
    report.messages++
    report.bytes += message.bytes.length
    if (!message.exact) report.legacyMessages++
    task.advance(1, message.bytes.length)
  }
}
