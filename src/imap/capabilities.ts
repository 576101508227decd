/** What the session can use: announced capabilities, and what ENABLE turned on (RFC 5161). */
import type {FlowInternals} from './flow-internals.js'
import type {Capabilities} from './types.js'

export function capabilitiesOf(flow: FlowInternals): Capabilities {
  const all = new Set<string>()
  for (const [name, value] of flow.capabilities) {
    // imapflow keeps APPENDLIMIT=n as APPENDLIMIT → n (RFC 7889).
    all.add(name === 'APPENDLIMIT' && typeof value === 'number' && value > 0 ? `APPENDLIMIT=${value}` : name.toUpperCase())
  }
  const limit = flow.capabilities.get('APPENDLIMIT')
  return {
    all,
    // CONDSTORE and QRESYNC count only once enabled (RFC 7162 §3.1, §3.2.3).
    condstore: flow.enabled.has('CONDSTORE'),
    qresync: flow.enabled.has('QRESYNC'),
    // LIST-STATUS is used with the extended LIST syntax (RFC 5819 §2, RFC 5258).
    listStatus: all.has('LIST-STATUS'),
    uidplus: all.has('UIDPLUS'),
    multiappend: all.has('MULTIAPPEND'),
    literalPlus: all.has('LITERAL+'),
    appendLimit: typeof limit === 'number' && limit > 0 ? limit : undefined,
  }
}
