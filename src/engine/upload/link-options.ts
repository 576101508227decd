/** The connection options an upload command passes on to the account's session pool. */
import type {Connect} from '../../imap/types.js'
import type {RetryPolicy} from '../access/types.js'

export interface LinkOptions {
  connect?: Connect
  retry?: Partial<RetryPolicy>
  traceProtocol?: boolean
}

/** The connection options among a command's options (accountSessionPool takes no others). */
export function linkOptions(options: LinkOptions): LinkOptions {
  const out: LinkOptions = {}
  if (options.connect !== undefined) out.connect = options.connect
  if (options.retry !== undefined) out.retry = options.retry
  if (options.traceProtocol !== undefined) out.traceProtocol = options.traceProtocol
  return out
}
