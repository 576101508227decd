/**
 * The one-line meaning of each exit code, printed under a run's summary when the code is not 0.
 * The words are those of docs/exit-codes.md ("meaning" and "what to do" columns); a unit test
 * checks that the two agree, as src/shared/errors.test.ts does for the numbers.
 */
import {ExitCode, type ExitCodeValue} from '../../shared/exit-codes.js'

type ExitName = keyof typeof ExitCode

export interface ExitMeaning {
  name: ExitName
  meaning: string
  /** Empty for OK. */
  action: string
}

export const EXIT_MEANINGS: Readonly<Record<ExitName, Omit<ExitMeaning, 'name'>>> = {
  OK: {meaning: 'Everything asked for was done.', action: ''},
  FAILURE: {
    meaning: 'A failure not covered below (imap-backup compatible), e.g. the server refused a command.',
    action: 'Read the error line; rerun with `--verbose`.',
  },
  USAGE: {meaning: 'Bad command line: unknown command or flag, missing argument, conflicting options.', action: '`mailkeep help COMMAND`.'},
  CONFIG: {meaning: 'The config file is missing, not JSON, invalid, or readable by group/other.', action: 'The message names the file, the key and the fix.'},
  INCOMPLETE: {
    meaning:
      'The run finished, but some folders or messages were not done (each is listed in the report and the log), or it reached its maximum duration (`--max-duration`) and stopped at a savepoint. Everything else was saved.',
    action: 'Rerun; it resumes from the last savepoint. If one folder keeps failing, see its error; `mailkeep local check` lists the folders the last backup could not store.',
  },
  LOCKED: {
    meaning: 'Another mailkeep process is working on this account (its pid is in the message). Nothing was done.',
    action: 'Wait for it; a lock held by a process that died is released by the kernel.',
  },
  DAMAGED: {
    meaning: 'The local backup is inconsistent (e.g. metadata points past the end of the mbox). Nothing was changed.',
    action: '`mailkeep local check`, then the repair command it names.',
  },
  UNSUPPORTED_FORMAT: {meaning: 'A backup file was written by a newer mailkeep. It was not touched.', action: 'Upgrade mailkeep.'},
  LOCAL_IO: {
    meaning: 'A local file operation failed: disk full, permission denied, read-only file system. The current folder was rolled back to its last savepoint.',
    action: 'Free space or fix permissions, then rerun.',
  },
  INTERNAL: {meaning: 'A bug in mailkeep. The stack trace is printed.', action: 'Please report it with the output.'},
  CONNECTION: {
    meaning: 'Could not connect to the server or log in (imap-backup compatible). The message says what answered: nothing, not an IMAP server, TLS expected, plain IMAP expected.',
    action: 'Check server, port, TLS settings and credentials.',
  },
  SIGINT: {
    meaning: 'Interrupted with Ctrl-C (SIGINT). The current folder was rolled back to its last savepoint; everything committed before is kept.',
    action: 'Rerun to continue.',
  },
  SIGTERM: {meaning: 'Stopped with SIGTERM (e.g. by systemd). Same as 130.', action: 'Rerun to continue.'},
}

export function exitMeaning(code: ExitCodeValue): ExitMeaning {
  const name = (Object.keys(ExitCode) as ExitName[]).find((key) => ExitCode[key] === code) ?? 'FAILURE'
  return {name, ...EXIT_MEANINGS[name]}
}

/**
 * `exit 4 (INCOMPLETE): The run finished, but … Rerun; it resumes from the last savepoint. …`
 * Backticks of the Markdown table are dropped for the terminal.
 */
export function exitLine(code: ExitCodeValue): string {
  const {name, meaning, action} = exitMeaning(code)
  const text = action === '' ? meaning : `${meaning} ${action}`
  return `exit ${code} (${name}): ${text.replace(/`/g, '')}`
}
