/** The text form of `auth status`: one block per account. */
import type {AuthStatusEntry} from '../../engine/access/auth-status.js'

export function renderAuthStatus(entries: readonly AuthStatusEntry[]): string {
  if (entries.length === 0) return 'No accounts are configured.'
  return entries.map(renderEntry).join('\n')
}

function renderEntry(e: AuthStatusEntry): string {
  const lines = [`${e.account}`]
  const mechanism = e.mechanism === 'auto' ? 'XOAUTH2 or OAUTHBEARER, as the server offers' : e.mechanism.toUpperCase()
  if (e.method !== 'oauth2') {
    lines.push(`  method: ${e.method}${e.method === 'oauth2_token_command' ? ` (${mechanism}; the command refreshes its tokens)` : ''}`)
    return lines.join('\n')
  }
  lines.push(`  method: oauth2 (${e.provider}, client ${e.clientId}; ${mechanism})`)
  lines.push(`  token file: ${e.tokenFile}`)
  if (e.problem !== undefined && !e.loggedIn) lines.push(`  problem: ${e.problem}`)
  else if (!e.loggedIn) lines.push(`  not logged in: run mailkeep auth login ${e.account}`)
  else {
    lines.push(`  logged in: ${e.obtainedAt} (${e.flow === 'device' ? 'device' : 'browser'} login)`)
    lines.push(`  last refreshed: ${e.lastRefreshed ?? 'never (no run since the login)'}`)
    if (e.problem !== undefined) lines.push(`  problem: ${e.problem}`)
  }
  return lines.join('\n')
}
