/**
 * SELECT / EXAMINE of one folder (commands/open.ts) made into what the engine is promised
 * (OpenedFolder in types.ts): UIDVALIDITY and UIDNEXT always, HIGHESTMODSEQ only where
 * CONDSTORE is usable, VANISHED and changed flags only where QRESYNC applied.
 */
import {RemoteError} from '../shared/errors.js'
import type {MailboxNames} from './commands/mailbox-name.js'
import {openMailbox} from './commands/open.js'
import {statusCommand} from './commands/status.js'
import type {FlowInternals} from './flow-internals.js'
import {missingOr} from './missing-folder.js'
import type {Capabilities, OpenedFolder} from './types.js'

export interface OpenParts {
  flow: FlowInternals
  names: MailboxNames
  capabilities: Capabilities
  server: string
}

export interface QresyncState {
  uidValidity: number
  highestModseq: string
}

/** The folder opened, and whether it keeps mod-sequences: CONDSTORE enabled and no NOMODSEQ (RFC 7162 §3.1.2.2). */
export async function openFolder(parts: OpenParts, folder: string, readOnly: boolean, qresync: QresyncState | undefined): Promise<{opened: OpenedFolder; modseq: boolean}> {
  const {flow, names, capabilities, server} = parts
  const useQresync = qresync !== undefined && capabilities.qresync && /^\d+$/.test(qresync.highestModseq) && qresync.highestModseq !== '0'
  let result
  try {
    result = await openMailbox(flow, names.node(folder), {readOnly, qresync: useQresync ? qresync : undefined})
  } catch (error) {
    // A failed SELECT/EXAMINE leaves no folder selected (RFC 3501 §6.3.1).
    throw await missingOr(flow, names, error, folder)
  }
  if (result.uidValidity === undefined) throw new RemoteError(`${server} sent no UIDVALIDITY for '${folder}'`, {cause: new Error('missing [UIDVALIDITY]')})
  let uidNext = result.uidNext
  if (uidNext === undefined) {
    // RFC 3501 requires [UIDNEXT]; some old servers leave it out. STATUS of the selected
    // folder is allowed (§6.3.10 only discourages it).
    uidNext = (await statusCommand(flow, names.node(folder), ['UIDNEXT'])).uidNext
    if (uidNext === undefined) throw new RemoteError(`${server} sent no UIDNEXT for '${folder}'`, {cause: new Error('missing [UIDNEXT]')})
  }
  const modseq = capabilities.condstore && !result.noModseq && result.highestModseq !== undefined
  const opened: OpenedFolder = {name: folder, readOnly: result.readOnly, uidValidity: result.uidValidity, uidNext, exists: result.exists}
  if (modseq) opened.highestModseq = result.highestModseq
  if (result.permanentFlags !== undefined) opened.permanentFlags = result.permanentFlags
  if (result.vanished !== undefined) {
    // Only meaningful when the server accepted our UIDVALIDITY (RFC 7162 §3.2.5.2).
    const accepted = result.uidValidity === qresync?.uidValidity
    opened.vanished = accepted ? [...new Set(result.vanished)].sort((a, b) => a - b) : []
    opened.changed = accepted ? (result.changed ?? []) : []
  }
  return {opened, modseq}
}
