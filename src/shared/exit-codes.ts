/**
 * The one exit-code table of mailkeep. docs/exit-codes.md documents the same table; a test
 * checks that the two agree.
 *
 * 1 and 111 keep imap-backup's meanings so that existing monitoring keeps working.
 */
export const ExitCode = {
  OK: 0,
  /** Any other failure (imap-backup compatible). */
  FAILURE: 1,
  /** Bad command line: unknown flag, missing argument, conflicting options. */
  USAGE: 2,
  /** Configuration file missing, malformed, invalid, or readable by others. */
  CONFIG: 3,
  /** The run finished but something was not done (a folder or message failed): see the report. */
  INCOMPLETE: 4,
  /** Another mailkeep process holds the account's lock. */
  LOCKED: 5,
  /** The local backup is damaged and needs `mailkeep local repair`; nothing was changed. */
  DAMAGED: 6,
  /** A backup file was written by a newer mailkeep; it is left untouched. */
  UNSUPPORTED_FORMAT: 7,
  /** Local I/O failure: disk full, permission denied, read-only file system. */
  LOCAL_IO: 8,
  /** A bug in mailkeep: the stack is printed; please report it. */
  INTERNAL: 70,
  /** Could not connect or log in (imap-backup compatible). */
  CONNECTION: 111,
  /** Interrupted by SIGINT (128 + 2). */
  SIGINT: 130,
  /** Terminated by SIGTERM (128 + 15). */
  SIGTERM: 143,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]
