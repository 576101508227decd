/**
 * Text of `mailkeep local check`: imap-backup's `Account: <u>` and `\t<folder>: OK|<error>` lines
 * (compat §2.2), then, indented once more, every other finding with its severity and the
 * command that repairs the folder.
 */
import type {CheckedAccount} from '../../engine/inspect/local-check.js'
import {printable} from './text.js'

export function renderCheck(accounts: readonly CheckedAccount[]): string {
  const lines: string[] = []
  for (const account of accounts) {
    lines.push(`Account: ${printable(account.account)}`)
    for (const folder of account.folders) {
      lines.push(`\t${printable(folder.name)}: ${printable(folder.result)}`)
      const shown = folder.result === 'OK' ? undefined : folder.findings.find((f) => f.message === folder.result)
      for (const finding of folder.findings) {
        if (finding === shown) continue
        lines.push(`\t\t${finding.severity}: ${printable(finding.message)}`)
      }
      const repairs = [...new Set(folder.findings.map((f) => f.repair).filter((r): r is string => r !== null))]
      for (const repair of repairs) lines.push(`\t\trepair: ${printable(repair)}`)
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
