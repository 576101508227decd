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

/**
 * A login: any user name the server accepts, an email address or not (the config's `username`
 * is any string). Only what cannot be one is refused: nothing, or control characters.
 */
export function validateLogin(value: string): true | string {
  if (value === '') return 'enter the login, e.g. me@example.com or me'
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'a login has no control characters'
  return true
}

/** The first line of an error's message (the messages of mailkeep's errors hold no secrets). */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
