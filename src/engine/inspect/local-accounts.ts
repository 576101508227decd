/**
 * `mailkeep local accounts`: every configured username, whatever its status (compat §2.2).
 * Reads the config only; no backup directory is touched.
 */
import type {Config} from '../../config/index.js'

export interface LocalAccount {
  username: string
}

export function localAccounts(config: Pick<Config, 'accounts'>): LocalAccount[] {
  return config.accounts.map((a) => ({username: a.username}))
}
