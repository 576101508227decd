/**
 * The machine-readable output of the commands that imap-backup also has with `--format json`
 * (`remote folders|capabilities|namespaces`, `stats`, `utils ignore-history`): both `--json`
 * (mailkeep's global flag) and `-f/--format json` (imap-backup's) print the typed result as
 * compact JSON on one line, exactly as imap-backup does, so scripts that compare or grep its
 * output keep working.
 */
import {Flags} from '@oclif/core'

/** imap-backup's `-f/--format text|json`. */
export const formatFlag = Flags.option({
  char: 'f',
  options: ['text', 'json'] as const,
  description: 'output format (imap-backup compatible); json is the same as --json [default: text]',
})()

export function wantsJson(flags: {json?: boolean; format?: 'text' | 'json' | undefined}): boolean {
  return flags.json === true || flags.format === 'json'
}

export function compactJson(value: unknown): string {
  return JSON.stringify(value)
}
