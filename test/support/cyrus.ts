/**
 * A private, real Cyrus IMAP 3.6 for one test file (Debian's build, unpacked by
 * `scripts/install-imap-servers.sh`): its own temp dir, config, port, users and log, started as
 * a child process (`master`) in a private mount namespace and stopped by PID
 * (`namespaced-server.ts`). `docs/testing.md` ("Cyrus") explains each setting.
 *
 * Two flavours, as for Dovecot:
 *   - separator '/' without prefix (`altnamespace: yes`, `unixhierarchysep: yes`);
 *   - separator '.' with the prefix `INBOX.` (Debian's defaults: both off).
 * Users live in a SASL database (`sasl_pwcheck_method: auxprop`, written by saslpasswd2); an
 * administrator, whose password is made per instance, creates each user's `user/<name>`
 * mailbox (the INBOX) at the first start.
 */
import {randomBytes} from 'node:crypto'
import {chown, mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {DEFAULT_USERS, type Separator, type TestUser} from './dovecot.js'
import {NamespacedServer, SERVERS_ROOT, type ServerCommand} from './namespaced-server.js'
import {expunge, fetchFlags, folderStatus, listUids, restoreFlags} from './mail-seed.js'
import {run, sleep, systemUser} from './processes.js'
import {RawImapClient, encodeMailboxName, mailboxArg} from './raw-imap.js'

export interface CyrusOptions {
  separator?: Separator
  users?: readonly TestUser[]
  /** Lines appended to imapd.conf verbatim. */
  extraConfig?: string
  startTimeoutMs?: number
}

const BIN = join(SERVERS_ROOT, 'usr/lib/cyrus/bin')
const LIBS = join(SERVERS_ROOT, 'usr/lib/x86_64-linux-gnu')
const SASLPASSWD = '/usr/sbin/saslpasswd2'
/** Debian's Cyrus user (made by the install script); `master` switches to it. */
const CYRUS_USER = 'cyrus'
const ADMIN = 'mailkeep-admin'

export async function startCyrus(options: CyrusOptions = {}): Promise<CyrusInstance> {
  const separator = options.separator ?? '/'
  const users = [...(options.users ?? DEFAULT_USERS)]
  validate(separator, users)
  return CyrusInstance.start(options, separator, users)
}

export class CyrusInstance extends NamespacedServer {
  protected readonly title = 'Cyrus'
  readonly confPath: string
  private readonly adminPassword = randomBytes(12).toString('hex')
  private mailboxesMade = false

  private constructor(
    dir: string,
    users: readonly TestUser[],
    separator: Separator,
    private readonly options: CyrusOptions,
  ) {
    super(dir, users, separator, separator === '.' ? 'INBOX.' : '', options.startTimeoutMs ?? 20_000)
    this.confPath = join(dir, 'imapd.conf')
  }

  static async start(options: CyrusOptions, separator: Separator, users: TestUser[]): Promise<CyrusInstance> {
    const instance = await NamespacedServer.launch((dir) => new CyrusInstance(dir, users, separator, options), 'mailkeep-cyrus-')
    await instance.makeMailboxes()
    return instance
  }

  /** The administrator (`admins:`); it sees every user's mailboxes as `user/<name>/…`. */
  get admin(): TestUser {
    return {user: ADMIN, password: this.adminPassword}
  }

  /** The name under which the administrator sees `folder` of `user` (e.g. `user/dave/Sent`). */
  adminMailboxName(user: string, folder: string): string {
    const sep = this.separator
    const [local, domain] = splitUser(user)
    const inner = folder.toUpperCase() === 'INBOX' ? '' : sep + (sep === '.' ? folder.replace(/^INBOX\./i, '') : folder)
    return `user${sep}${local}${inner}${domain ? `@${domain}` : ''}`
  }

  /** Runs a Cyrus tool (`reconstruct`, `mbpath`, …) with this instance's config, as the cyrus user. */
  async tool(name: string, args: readonly string[]): Promise<string> {
    return run('/usr/bin/setpriv', ['--reuid', CYRUS_USER, '--regid', 'mail', '--init-groups', '--', join(BIN, name), '-C', this.confPath, ...args], {LD_LIBRARY_PATH: LIBS, TZ: 'UTC'})
  }

  protected async prepare(): Promise<void> {
    const conf = join(this.dir, 'conf')
    for (const sub of ['', 'db', 'socket', 'log', 'lock', 'proc', 'quota', 'user', 'sieve']) await mkdir(join(conf, sub), {recursive: true, mode: 0o750})
    await mkdir(join(this.dir, 'spool'), {mode: 0o750})
    // SASL realm of a user without a domain: the server name (Cyrus passes no realm of its own).
    const sasldb = join(conf, 'sasldb2')
    for (const {user, password} of [...this.users, this.admin]) {
      const realm = user.includes('@') ? [] : ['-u', this.instanceName]
      await run(SASLPASSWD, ['-f', sasldb, ...realm, '-p', '-c', user], {}, password)
    }
    await writeFile(this.confPath, this.renderImapdConf(), {mode: 0o644})
    await chownTree(conf)
    await chownTree(join(this.dir, 'spool'))
  }

  protected async command(): Promise<ServerCommand> {
    const cyrusConf = join(this.dir, 'cyrus.conf')
    await writeFile(cyrusConf, this.renderCyrusConf(), {mode: 0o644})
    // A pid file left by a killed master would name another process now.
    await rm(join(this.dir, 'master.pid'), {force: true})
    return {
      argv: [join(BIN, 'master'), '-C', this.confPath, '-M', cyrusConf, '-p', join(this.dir, 'master.pid'), '-D'],
      // TZ: INTERNALDATE and log times in UTC whatever the host says.
      env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LD_LIBRARY_PATH: LIBS, TZ: 'UTC'},
      namespace: {},
    }
  }

  private renderImapdConf(): string {
    const conf = join(this.dir, 'conf')
    const unix = this.separator === '/'
    const lines = [
      '# Generated by test/support/cyrus.ts for one test run; see docs/testing.md.',
      `configdirectory: ${conf}`,
      `defaultpartition: default`,
      `partition-default: ${join(this.dir, 'spool')}`,
      `servername: ${this.instanceName}`,
      `cyrus_user: ${CYRUS_USER}`,
      `admins: ${ADMIN}`,
      `altnamespace: ${unix ? 'yes' : 'no'}`,
      `unixhierarchysep: ${unix ? 'yes' : 'no'}`,
      // user@domain logins are distinct users (otherwise only the local part counts).
      `virtdomains: userid`,
      `allowplaintext: yes`,
      `sasl_pwcheck_method: auxprop`,
      `sasl_auxprop_plugin: sasldb`,
      `sasl_sasldb_path: ${join(conf, 'sasldb2')}`,
      `sasl_mech_list: PLAIN LOGIN`,
      // A wrong-password test must not delay the next test's logins (default 3 s).
      `failedloginpause: 0`,
      `lmtpsocket: ${join(conf, 'socket/lmtp')}`,
      `idlesocket: ${join(conf, 'socket/idle')}`,
      `notifysocket: ${join(conf, 'socket/notify')}`,
    ]
    if (this.options.extraConfig) lines.push(this.options.extraConfig)
    return lines.join('\n') + '\n'
  }

  private renderCyrusConf(): string {
    const conf = this.confPath
    return [
      '# Generated by test/support/cyrus.ts; only IMAP, on our port of 127.0.0.1.',
      'START {',
      `  recover cmd="${join(BIN, 'ctl_cyrusdb')} -C ${conf} -r"`,
      '}',
      'SERVICES {',
      `  imap cmd="${join(BIN, 'imapd')} -C ${conf}" listen="${this.host}:${this.port}" prefork=0 maxchild=200`,
      '}',
      'EVENTS {',
      '}',
      'DAEMON {',
      '}',
      '',
    ].join('\n')
  }

  /** The administrator creates each user's INBOX (Cyrus has no mailbox until then). */
  private async makeMailboxes(): Promise<void> {
    if (this.mailboxesMade) return
    await this.asAdmin(async (client) => {
      for (const {user} of this.users) await client.command(`CREATE ${mailboxArg(this.adminMailboxName(user, 'INBOX'))}`)
    })
    this.mailboxesMade = true
  }

  /** A logged-in administrator session for `fn`. */
  async asAdmin<T>(fn: (client: RawImapClient) => Promise<T>): Promise<T> {
    const client = await RawImapClient.connect({host: this.host, port: this.port})
    try {
      await client.login(ADMIN, this.adminPassword)
      return await fn(client)
    } finally {
      await client.logout()
    }
  }

  /**
   * A new UIDVALIDITY for one folder, the way an administrator rebuilds a damaged mailbox:
   * remove its index (cyrus.index) and run `reconstruct`, which rebuilds it from the message
   * files with the same UIDs and internal dates and a new UIDVALIDITY (the current time, so
   * within the same second it may come out unchanged: then it waits and rebuilds again).
   * The rebuilt index has no flags, so the flags read before are stored again; messages expunged
   * earlier, whose files Cyrus keeps, come back and are expunged again. Cyrus picks the
   * value; `newValue` is not supported. Use `forceUidValidityChange` (mail-seed.ts).
   */
  async changeUidValidity(user: string, folder: string, newValue?: number): Promise<void> {
    if (newValue !== undefined) throw new Error('Cyrus picks the new UIDVALIDITY itself; newValue is not supported')
    const before = (await folderStatus(this, user, folder)).uidValidity
    const flags = await fetchFlags(this, user, folder)
    for (let attempt = 1; ; attempt++) {
      await rm(join(await this.folderPath(user, folder), 'cyrus.index'), {force: true})
      await this.tool('reconstruct', [this.toolMailboxName(user, folder)])
      if ((await folderStatus(this, user, folder)).uidValidity !== before) break
      if (attempt >= 5) throw new Error(`reconstruct kept the UIDVALIDITY ${before} of '${folder}'`)
      await sleep(1000 - (Date.now() % 1000) + 10)
    }
    // Cyrus keeps the files of expunged messages (expunge_mode: delayed) and reconstruct finds
    // them again: they go, so that the folder holds what it held.
    const back = (await listUids(this, user, folder)).filter((uid) => !flags.has(uid))
    await expunge(this, user, folder, back)
    await restoreFlags(this, user, folder, flags)
  }

  /** Files of one folder in the spool (`mbpath`), e.g. to remove its index. */
  async folderPath(user: string, folder: string): Promise<string> {
    return (await this.tool('mbpath', [this.toolMailboxName(user, folder)])).trim()
  }

  /**
   * The name Cyrus's tools take: the administrator's name in modified UTF-7, as on the wire (a
   * UTF-8 name is refused: "Invalid mailbox name").
   */
  toolMailboxName(user: string, folder: string): string {
    return encodeMailboxName(this.adminMailboxName(user, folder))
  }

  /** Entries of a folder's directory (for tests that look at Cyrus's files). */
  async folderFiles(user: string, folder: string): Promise<string[]> {
    return readdir(await this.folderPath(user, folder))
  }
}

function splitUser(user: string): [string, string | undefined] {
  const at = user.lastIndexOf('@')
  return at < 0 ? [user, undefined] : [user.slice(0, at), user.slice(at + 1)]
}

function validate(separator: Separator, users: TestUser[]): void {
  if (separator !== '/' && separator !== '.') throw new Error(`unsupported separator ${JSON.stringify(separator)}`)
  if (users.length === 0) throw new Error('at least one user is needed (the start-up probe logs in as the first)')
  for (const {user, password} of users) {
    // With '.' as separator Cyrus forbids dots in the local part; the name must be a plain atom.
    if (!/^[A-Za-z0-9_+-]+(@[A-Za-z0-9.-]+)?$/.test(user) || user === ADMIN) throw new Error(`unsupported test user name ${JSON.stringify(user)}`)
    if (/[\r\n]/.test(password) || password === '') throw new Error(`unsupported password for ${user}: empty, or contains a line break`)
  }
}

async function chownTree(path: string): Promise<void> {
  const {uid, gid} = systemUser(CYRUS_USER)
  await chown(path, uid, gid)
  for (const entry of await readdir(path, {withFileTypes: true})) {
    const full = join(path, entry.name)
    if (entry.isDirectory()) await chownTree(full)
    else await chown(full, uid, gid)
  }
}
