/**
 * APPEND (RFC 3501 §6.3.11) with flags and internal date; the new UID from the APPENDUID
 * response code (RFC 4315 §3) when the server announces UIDPLUS, nothing otherwise (no guessing from
 * sequence numbers, as imapflow does). A message containing NUL is sent as a literal8 when the
 * server has BINARY (RFC 3516 §4.4); otherwise as a literal, which a server may refuse.
 * `\Recent` is never sent: clients cannot set it (RFC 3501 §2.3.2).
 */
import {command, writeRaw, type FlowInternals, type WireNode} from '../flow-internals.js'
import {formatInternalDate} from '../internal-date.js'
import {responseCode, text} from '../response.js'
import type {AppendResult} from '../types.js'

/**
 * Above this, the literal goes to the socket as the caller's buffer, after the server's `+`
 * (RFC 3501 §4.3 synchronizing literal). Through imapflow's compiler it would be copied twice:
 * `Buffer.concat` of the part that is the literal alone, then again with the command's final CRLF
 * in its write(): a 50 MiB restore held three copies of the message. Below it, the compiler's
 * path (LITERAL+ when announced, no round trip) costs a copy of a few KiB.
 */
const DIRECT_LITERAL_BYTES = 64 * 1024
const CRLF = Buffer.from('\r\n')

export async function appendCommand(
  flow: FlowInternals,
  mailbox: WireNode,
  source: Buffer,
  options: {flags: string[]; internalDate: Date | null},
  uidplus: boolean,
): Promise<AppendResult> {
  const flags = options.flags.filter((flag) => flag.toUpperCase() !== '\\RECENT')
  const args: WireNode[] = [mailbox]
  if (flags.length > 0) args.push(flags.map((flag): WireNode => ({type: 'ATOM', value: flag})))
  if (options.internalDate) args.push({type: 'STRING', value: formatInternalDate(options.internalDate)})
  const binary = flow.capabilities.has('BINARY') && source.includes(0)
  let tagged
  if (source.length > DIRECT_LITERAL_BYTES) {
    // The announcement ends the command line; the literal and the CRLF that ends the command
    // follow the server's continuation, written as they are.
    args.push({type: 'TEXT', value: `${binary ? '~' : ''}{${source.length}}`})
    let sent = false
    tagged = await command(flow, 'APPEND', args, undefined, () => {
      if (sent) return
      sent = true
      writeRaw(flow, source)
      writeRaw(flow, CRLF)
    })
  } else {
    args.push({type: 'LITERAL', value: source, isLiteral8: binary})
    tagged = await command(flow, 'APPEND', args)
  }
  const code = responseCode(tagged)
  // APPENDUID counts only from a server that announces UIDPLUS: the engine decides by the
  // capability, and a UID it did not expect would be one it cannot rely on next time.
  if (!uidplus || code?.code !== 'APPENDUID') return {}
  const uidValidity = text(code.args[0])
  const uid = text(code.args[1])
  const result: AppendResult = {}
  if (uidValidity !== null && /^\d+$/.test(uidValidity)) result.uidValidity = Number(uidValidity)
  // A single APPEND gets a single UID (a set only for MULTIAPPEND).
  if (uid !== null && /^\d+$/.test(uid)) result.uid = Number(uid)
  return result
}
