/**
 * The one-line message of a command-line mistake that oclif's parser found (a missing argument,
 * an unknown flag, flags that exclude each other). oclif's own messages span several lines:
 * "Missing 1 required arg:", then a table of the missing arguments, then "See more help with
 * --help". mailkeep prints one line per error (docs/exit-codes.md), and the first line alone
 * lost what was missing, so the message is rebuilt here from the error's fields.
 */
import type {Errors} from '@oclif/core'
import {stripVTControlCharacters} from 'node:util'
import {scrubForeign} from '../shared/secrets.js'

interface MissingArg {
  name?: string
  description?: string
}

/** The message for a parse error of oclif's; any other CLIError gets its lines joined. */
export function usageMessage(error: Errors.CLIError): string {
  // RequiredArgsError is not exported by @oclif/core: it is known by its message and `args`.
  const args = (error as {args?: unknown}).args
  if (/^Missing \d+ required args?\b/.test(error.message) && Array.isArray(args)) return missingArgs(args as MissingArg[])
  const lines = stripVTControlCharacters(error.message)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help')
  // "The following error(s) occurred:" heads a list of reasons: the reasons say it all.
  if (lines.length > 1 && /^The following errors? occurred:$/.test(lines[0]!)) lines.shift()
  // These quote the command line, which may hold a password (`single backup --password …`).
  return scrubForeign(lines.join('; '))
}

function missingArgs(args: readonly MissingArg[]): string {
  const named = args.map((a) => (a.name === undefined ? 'an argument' : `${a.name.toUpperCase()}${a.description === undefined ? '' : ` (${a.description})`}`))
  return args.length === 1 ? `missing the required argument ${named[0]}` : `missing ${args.length} required arguments: ${named.join(', ')}`
}
