/**
 * One account of a test IMAP server as the config file holds it (imap-backup's schema 2.x):
 * plain IMAP on the server's port, with the test user's password.
 */
import type {AccountFile} from '../../src/config/index.js'
import type {TestUser} from './dovecot.js'
import type {ImapServer} from './mail-seed.js'

type Server = Pick<ImapServer, 'host' | 'port'>

/** The account entry, typed, with `extra` keys added or replaced. */
export function accountFile(server: Server, user: TestUser, localPath: string, extra: Partial<AccountFile> = {}): AccountFile {
  return {
    username: user.user,
    password: user.password,
    local_path: localPath,
    server: server.host,
    connection_options: {port: server.port, ssl: false},
    ...extra,
  }
}

/** The same entry for config files written as JSON; `extra` may hold any keys (invalid ones too). */
export function accountEntry(server: Server, user: TestUser, localPath: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {...accountFile(server, user, localPath), ...extra}
}
