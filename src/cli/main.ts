/**
 * Runs the oclif CLI. imap-backup conventions kept here: a command line with no command (or only
 * flags) runs `backup`.
 */
import {run as oclifRun, flush, Errors, settings} from '@oclif/core'
import {MailkeepError} from '../shared/errors.js'
import {ExitCode} from '../shared/exit-codes.js'
import {scrubForeign, scrubOutput} from '../shared/secrets.js'
import {tolerateClosedPipes} from './closed-pipe.js'

const PASS_THROUGH = new Set(['--help', '-h', 'help'])

// mailkeep always runs its build (dist/bundle/mailkeep.js). Without this, oclif looks for the
// TypeScript sources whenever NODE_ENV is "development" or "test" (vite-node and vitest set it,
// and child processes inherit it), which loads the TypeScript compiler to read tsconfig.json:
// about +40 MB and +0.3 s for every command (docs/performance.md).
settings.enableAutoTranspile = false

export async function run(argv: string[]): Promise<void> {
  tolerateClosedPipes()
  const first = argv[0]
  const args = first === undefined || (first.startsWith('-') && !PASS_THROUGH.has(first)) ? ['backup', ...argv] : argv
  try {
    await oclifRun(args, import.meta.url)
  } catch (error) {
    // Errors raised by our commands are rendered by BaseCommand.catch; what arrives here comes
    // from oclif itself (unknown command, `this.exit()`) or from its help renderer.
    if (error instanceof Errors.ExitError) {
      process.exitCode = error.oclif.exit
    } else if (error instanceof MailkeepError) {
      // From our command_not_found hook (hooks/command-not-found.ts): a usage error with its hint.
      const hint = error.hint === undefined ? '' : `hint: ${error.hint}\n`
      process.stderr.write(scrubOutput(`mailkeep: error: ${error.message}\n${hint}`))
      process.exitCode = error.exitCode
    } else if (error instanceof Errors.CLIError) {
      // oclif's words, which quote the command line (a mistyped `--password pass`): foreign text.
      process.stderr.write(scrubOutput(`mailkeep: error: ${scrubForeign(error.message)}\n`))
      process.exitCode = ExitCode.USAGE
    } else {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
      process.stderr.write(scrubOutput(`mailkeep: internal error: ${scrubForeign(text)}\nThis is a bug in mailkeep; please report it.\n`))
      process.exitCode = ExitCode.INTERNAL
    }
  }
  await flush()
  // Open sockets or timers left by a library must not keep a cron job alive.
  process.exit(process.exitCode ?? 0)
}
