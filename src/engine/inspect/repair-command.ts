/**
 * The exact command line that repairs a folder, as `local check` and damage errors print it:
 * `mailkeep local repair [--config FILE] EMAIL FOLDER`, each argument quoted for a POSIX shell
 * only when it needs it, so that it can be pasted as it is.
 */

export interface RepairCommandOptions {
  /** The `--config` the user gave, repeated so the command finds the same accounts. */
  configFlag?: string
}

export function repairCommand(account: string, folder: string | undefined, options: RepairCommandOptions = {}): string {
  const parts = ['mailkeep', 'local', 'repair']
  if (options.configFlag !== undefined) parts.push('--config', shellQuote(options.configFlag))
  parts.push(shellQuote(account))
  if (folder !== undefined) parts.push(shellQuote(folder))
  return parts.join(' ')
}

/** `INBOX` stays as it is; `Sent Items` becomes `'Sent Items'`; `it's` becomes `'it'\''s'`. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text
  return `'${text.replace(/'/g, `'\\''`)}'`
}
