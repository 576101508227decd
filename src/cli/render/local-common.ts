/**
 * What the `local` commands share: imap-backup's `-f/--format text|json` (compat §2.1), kept so
 * that scripts written for imap-backup keep working; `--format json` is the same as `--json`.
 */
import {Flags} from '@oclif/core'

export const formatFlag = Flags.option({
  char: 'f',
  options: ['text', 'json'] as const,
  description: 'output format (imap-backup compatible); json is the same as --json',
})()

/** True when the output is JSON (`--json` or `--format json`). */
export function wantsJson(flags: {json?: boolean; format?: string}): boolean {
  return flags.json === true || flags.format === 'json'
}

/** Turns `--format json` into `--json` once flags are parsed (call at the end of init()). */
export function applyFormat(flags: {json?: boolean; format?: string}): void {
  if (flags.format === 'json') flags.json = true
}

/** `a@x, b@y` → ['a@x', 'b@y']; undefined when the flag is absent. */
export function accountList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}
