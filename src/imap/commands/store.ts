/** UID STORE (RFC 3501 §6.4.6, §6.4.8) with the .SILENT forms: no untagged FETCH echo. */
import {command, type FlowInternals, type WireNode} from '../flow-internals.js'

const ITEM = {add: '+FLAGS.SILENT', remove: '-FLAGS.SILENT', set: 'FLAGS.SILENT'} as const

export async function uidStore(flow: FlowInternals, uidSet: string, flags: string[], mode: keyof typeof ITEM): Promise<void> {
  await command(flow, 'UID STORE', [
    {type: 'SEQUENCE', value: uidSet},
    {type: 'ATOM', value: ITEM[mode]},
    flags.map((flag): WireNode => ({type: 'ATOM', value: flag})),
  ])
}
