/**
 * `remote namespaces` as text (compat §2.2): a header, then one row each for `personal`, `other`
 * and `shared`; prefix and delimiter as JSON strings (so an empty prefix shows as `""`), and
 * `(Not defined)` for a kind the server does not have.
 *
 * ```
 * Name       Prefix               Delimiter
 * personal   "INBOX."             "."
 * other      (Not defined)
 * shared     (Not defined)
 * ```
 */
import type {NamespaceInfo, RemoteNamespaces} from '../../engine/inspect/remote-namespaces.js'

const KINDS = ['personal', 'other', 'shared'] as const

export function renderRemoteNamespaces(namespaces: RemoteNamespaces): string {
  const lines = [row('Name', 'Prefix', 'Delimiter')]
  for (const kind of KINDS) lines.push(namespaceRow(kind, namespaces[kind]))
  return lines.join('\n')
}

function namespaceRow(kind: string, info: NamespaceInfo | null): string {
  if (info === null) return `${kind.padEnd(10)} (Not defined)`
  // JSON.stringify escapes control characters, so a hostile prefix cannot reach the terminal.
  return row(kind, JSON.stringify(info.prefix), JSON.stringify(info.delim))
}

function row(name: string, prefix: string, delimiter: string): string {
  return `${name.padEnd(10)} ${prefix.padEnd(20)} ${delimiter}`
}
