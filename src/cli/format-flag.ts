/**
 * imap-backup's `-f/--format text|json` (compat §2.1), for the commands imap-backup has it on
 * (`local *`, `remote *`, `stats`), so that scripts written for imap-backup keep working.
 * `--format json` is the same as mailkeep's global `--json`; BaseCommand applies it.
 */
import {Flags} from '@oclif/core'

export const formatFlag = Flags.option({
  char: 'f',
  options: ['text', 'json'] as const,
  description: 'output format (imap-backup compatible); json is the same as --json',
})()
