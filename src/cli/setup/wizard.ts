/**
 * What every screen of the setup wizard works with, and the helpers they share: draw a screen
 * (title, then the notices left by the last action), apply a change through the state's
 * validation.
 */
import type {AccountFile} from '../../config/index.js'
import type {RunContext} from '../../shared/context.js'
import type {Prompter} from './prompter.js'
import type {SetupState} from './setup-state.js'

export interface Wizard {
  readonly prompter: Prompter
  readonly state: SetupState
  /** For the engine calls (connection test, folder list): logger and the abort signal. */
  readonly ctx: RunContext
}

/** Clears the terminal, draws `header`, then the pending notices (each once). */
export function drawScreen(w: Wizard, header: string): void {
  const notices = w.state.takeNotices()
  const body = notices.length === 0 ? header : `${header}\n${notices.join('\n')}\n`
  w.prompter.screen(body)
}

/**
 * Changes the account if the result is a valid config; otherwise leaves a notice with the
 * reason. Warnings the change causes are left as notices too. Returns whether it was applied.
 */
export function apply(w: Wizard, account: AccountFile, mutate: (draft: AccountFile) => void): boolean {
  const result = w.state.update(account, mutate)
  if (result.error !== undefined) {
    w.state.notice(`Not changed: ${result.error}`)
    return false
  }
  for (const warning of result.warnings) w.state.notice(`warning: ${warning}`)
  return true
}

/** The simple `local@domain.tld` check imap-backup makes (compat §3.7). */
export const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/

export function validateEmail(value: string): true | string {
  return EMAIL_PATTERN.test(value) ? true : 'enter an email address, e.g. me@example.com'
}

/** The first line of an error's message (the messages of mailkeep's errors hold no secrets). */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
