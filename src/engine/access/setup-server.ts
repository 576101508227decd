/**
 * The server side of `mailkeep setup`: test that an account (possibly not saved yet) can log in,
 * and list the folders it could back up, for the folder chooser.
 *
 * Both try once: a person is waiting at the menu, and retrying a refused login only gets the
 * account locked by the provider. The config passed in is the one being edited (built with
 * parseConfig() from the wizard's state), so a changed server or password is tested before it
 * is saved.
 */
import type {Config, Security} from '../../config/index.js'
import type {PeerInfo} from '../../imap/types.js'
import {InterruptedError, MailkeepError} from '../../shared/errors.js'
import type {RunContext} from '../../shared/context.js'
import {findAccount} from './account-access.js'
import {openAccountSession, type SessionOptions} from './account-session.js'

export type ConnectionCheck =
  | {
      readonly ok: true
      readonly host: string
      readonly port: number
      readonly security: Security
      /** The user the server logged in. */
      readonly user: string
      /** Who answered: greeting, TLS, certificate, ID (src/imap/peer.ts), when known. */
      readonly peer: PeerInfo | undefined
      /** Folders the server lists for the account (undefined: the LIST failed). */
      readonly folders: number | undefined
    }
  /** `message` is the error's first line, `hint` what to do; neither holds a password (errors never do). */
  | {readonly ok: false; readonly message: string; readonly hint?: string}

const ONE_TRY = {attempts: 0} as const

/**
 * Connects and logs in as the account, lists its folders (so that the answer says what the
 * backup would see), then logs out. Failures are returned, not thrown.
 */
export async function checkAccountConnection(config: Config, username: string, ctx: RunContext, options: SessionOptions = {}): Promise<ConnectionCheck> {
  try {
    const account = findAccount(config, username)
    const session = await openAccountSession(config, account, ctx, {retry: ONE_TRY, ...options})
    let folders: number | undefined
    try {
      folders = (await session.listFolders()).length
    } catch (error) {
      if (error instanceof InterruptedError) throw error
      folders = undefined
    } finally {
      await session.logout()
    }
    const c = account.connection
    return {ok: true, host: c?.host ?? '', port: c?.port ?? 0, security: c?.security ?? 'tls', user: session.user, peer: session.peer, folders}
  } catch (error) {
    if (error instanceof InterruptedError) throw error
    const hint = error instanceof MailkeepError ? error.hint : undefined
    return {ok: false, message: firstLine(error), ...(hint === undefined ? {} : {hint})}
  }
}

/**
 * The names of the account's folders that can be selected (`\Noselect` ones left out), in the
 * server's order, decoded to UTF-8. Throws what openAccountSession or LIST throws.
 */
export async function listSelectableFolders(config: Config, username: string, ctx: RunContext, options: SessionOptions = {}): Promise<string[]> {
  const account = findAccount(config, username)
  const session = await openAccountSession(config, account, ctx, {retry: ONE_TRY, ...options})
  try {
    const folders = await session.listFolders()
    return folders.filter((f) => !f.noselect).map((f) => f.name)
  } finally {
    await session.logout()
  }
}

/** An expected failure is shown as it is; anything else is marked as unexpected (imap-backup does too). */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const line = message.split('\n')[0] ?? message
  return error instanceof MailkeepError ? line : `unexpected error: ${line}`
}
