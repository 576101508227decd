/**
 * A private, real Dovecot 2.3 for one test file: its own directory, config, port, users and
 * log, started as a foreground child (`dovecot -F`) and stopped by the PID we started.
 * `docs/testing.md` ("Test harness") explains each setting.
 *
 * Two flavours cover the namespace shapes mailkeep must handle:
 *   - separator '/' without prefix (the default);
 *   - separator '.' with the personal namespace prefix `INBOX.` (Courier/Cyrus style).
 * Both store mail as mdbox by default: it holds either separator (the namespace separator is
 * independent of the storage's own) and seeds 10,000 messages in under a second, where Maildir
 * and sdbox need 2 to 6 s on this VM (one file per message). `storage: 'maildir'` gives Maildir++ for
 * '.' and the fs layout for '/'. `capabilities` replaces the advertised capability list to
 * imitate servers without CONDSTORE, QRESYNC, LIST-STATUS, UIDPLUS, …
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {chmod, chown, lstat, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {folderStatus} from './mail-seed.js'
import {AddressInUseError, LOOPBACK, retryOnAddressInUse, retryWhileAddressInUse, waitForPortFree} from './ports.js'
import {killQuietly, listProcesses, outputTail, sleep, stopAll, withParentDeathSignal, type ProcessInfo} from './processes.js'
import {RawImapClient} from './raw-imap.js'
import {makeTempDir, removeTempDir} from './temp-dir.js'

export type Separator = '/' | '.'
export type StorageFormat = 'mdbox' | 'sdbox' | 'maildir'

export interface TestUser {
  user: string
  password: string
}

/**
 * Distinctive passwords, so a test can grep logs and output for leaks. The last one needs
 * quoting in LOGIN (space, quote, backslash).
 */
export const DEFAULT_USERS: readonly TestUser[] = Object.freeze([
  {user: 'alice@example.test', password: 'alice-Pw-5f3a9c'},
  {user: 'bob@example.test', password: 'bob-Pw-81d2e7'},
  {user: 'carol@example.test', password: 'carol-Pw-c4b06a'},
  {user: 'dave', password: 'dave pw "q" \\ 9e1'},
])

export interface DovecotOptions {
  separator?: Separator
  /** Personal namespace prefix; default `INBOX.` for '.', none for '/'. Must end with the separator. */
  prefix?: string
  users?: readonly TestUser[]
  /** A full `imap_capability` value (a leading `+` adds to Dovecot's list instead). */
  capabilities?: string
  /** Default mdbox (fast to seed); sdbox has one file per message; maildir is Maildir++ for '.'. */
  storage?: StorageFormat
  /**
   * Use (and keep) this data directory, e.g. one a previous instance stopped with. Each of its
   * ancestors must be searchable by others: Dovecot's mail, login and auth processes run as
   * other users. By default a fresh temp dir is made and removed by `stop()`.
   */
  dir?: string
  /** Appended to the generated config verbatim. */
  extraConfig?: string
  startTimeoutMs?: number
}

export interface DoveadmResult {
  stdout: string
  stderr: string
}

export interface DovecotInstance {
  readonly host: string
  readonly port: number
  readonly users: readonly TestUser[]
  readonly confPath: string
  readonly dir: string
  readonly logPath: string
  /** PID of the running master process (changes on `restart()`). */
  readonly pid: number
  readonly running: boolean
  readonly separator: Separator
  readonly prefix: string
  readonly storage: StorageFormat
  readonly instanceName: string
  /**
   * Stops the server (SIGTERM, SIGKILL after a timeout) and every process of the instance, waits
   * until the port is free, then removes the data dir if this harness created it (unless
   * `keepDir`). Safe to call twice.
   */
  stop(options?: {keepDir?: boolean}): Promise<void>
  /** Stops and starts again on the same port with the same data (a server restart). */
  restart(): Promise<void>
  /** `doveadm -c <conf> ...args`; rejects with its stderr when it exits non-zero. */
  doveadm(args: readonly string[], input?: Buffer | string): Promise<DoveadmResult>
  /**
   * `doveadm mailbox update --uid-validity` (default: the next value of Dovecot's own
   * counter, which it then never gives another folder, or the current value + 1 if that is
   * higher, after an explicit `newValue`): UIDs, UIDNEXT, flags and dates stay. Use `forceUidValidityChange` (mail-seed.ts), which also checks it.
   */
  changeUidValidity(user: string, folder: string, newValue?: number): Promise<void>
  /** The last lines of the Dovecot log, for error messages. */
  logTail(lines?: number): Promise<string>
  /** The live processes of this instance (the master and its children). */
  processes(): ProcessInfo[]
}

/** The plain uid/gid that owns all mail; no passwd entry is needed (userdb supplies it). */
export const MAIL_UID = 5000
const DOVECOT_BIN = process.env.MAILKEEP_DOVECOT ?? '/usr/sbin/dovecot'
const DOVEADM_BIN = process.env.MAILKEEP_DOVEADM ?? '/usr/bin/doveadm'
const STOP_TIMEOUT_MS = 10_000

export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotInstance> {
  const separator = options.separator ?? '/'
  const prefix = options.prefix ?? (separator === '.' ? 'INBOX.' : '')
  const storage = options.storage ?? 'mdbox'
  const users = [...(options.users ?? DEFAULT_USERS)]
  validate(separator, prefix, users)

  const ownsDir = options.dir === undefined
  const dir = ownsDir ? await makeTempDir('mailkeep-dovecot-') : resolve(options.dir!)
  try {
    if (ownsDir) await chmod(dir, 0o711)
    else await checkSearchable(dir)
    const instance = new Instance({...options, separator, prefix, storage, users}, dir, ownsDir)
    await instance.prepare()
    await instance.startOnFreePort()
    return instance
  } catch (error) {
    if (ownsDir) await removeTempDir(dir).catch(() => undefined)
    throw error
  }
}

interface ResolvedOptions extends DovecotOptions {
  separator: Separator
  prefix: string
  storage: StorageFormat
  users: TestUser[]
}

/** Every instance not stopped yet, for the exit hook below. */
const live = new Set<Instance>()

class Instance implements DovecotInstance {
  readonly host = LOOPBACK
  readonly confPath: string
  readonly logPath: string
  readonly instanceName: string
  readonly separator: Separator
  readonly prefix: string
  readonly storage: StorageFormat
  readonly users: readonly TestUser[]
  port = 0
  private child: ChildProcess | undefined
  private outputOf: () => string = () => ''
  private state: 'new' | 'running' | 'stopped' | 'removed' = 'new'

  constructor(
    private readonly options: ResolvedOptions,
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {
    this.confPath = join(dir, 'dovecot.conf')
    this.logPath = join(dir, 'dovecot.log')
    // Unique: Dovecot puts it in every process title (`dovecot-<name>/imap`), which lets
    // stop() find orphans of this instance and only this one.
    this.instanceName = `mailkeep-${randomBytes(5).toString('hex')}`
    this.separator = options.separator
    this.prefix = options.prefix
    this.storage = options.storage
    this.users = Object.freeze(options.users.map((u) => Object.freeze({...u})))
  }

  get pid(): number {
    return this.child?.pid ?? 0
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async prepare(): Promise<void> {
    await mkdir(join(this.dir, 'state'), {recursive: true, mode: 0o700})
    const mail = join(this.dir, 'mail')
    await mkdir(mail, {recursive: true, mode: 0o700})
    await chown(mail, MAIL_UID, MAIL_UID)
    const usersPath = join(this.dir, 'users')
    // passwd-file: user:password:uid:gid:(gecos):home:(shell). Read by the auth process, which
    // runs as default_internal_user, hence group dovecot and no access for others.
    const lines = this.users.map((u) => `${u.user}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_UID}::${join(mail, u.user)}::\n`)
    await writeFile(usersPath, lines.join(''), {mode: 0o640})
    await chown(usersPath, 0, groupId('dovecot'))
  }

  async startOnFreePort(): Promise<void> {
    // Another test file may take the port between our check and the server's bind: then
    // another port is tried (ports.ts).
    await retryOnAddressInUse((port) => {
      this.port = port
      return this.start()
    })
  }

  async start(): Promise<void> {
    await this.writeConfig()
    // A base_dir left by a killed instance holds a master.pid that may now name another
    // process; Dovecot would refuse to start. Nothing in it is data.
    await rm(join(this.dir, 'run'), {recursive: true, force: true})
    await mkdir(join(this.dir, 'run'), {mode: 0o755})
    const [command, args] = withParentDeathSignal(DOVECOT_BIN, ['-F', '-c', this.confPath])
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      // TZ: INTERNALDATE and log times in UTC whatever the host says. Dovecot passes TZ on.
      env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TZ: 'UTC'},
    })
    this.child = child
    live.add(this)
    this.outputOf = outputTail(child)
    try {
      await this.waitUntilReady(child)
      this.state = 'running'
    } catch (error) {
      await this.stopProcesses()
      if (error instanceof AddressInUseError) throw error
      throw new Error(`${(error as Error).message}\n${await this.diagnostics()}`, {cause: error})
    }
  }

  async stop(options: {keepDir?: boolean} = {}): Promise<void> {
    if (this.state === 'running') {
      await this.stopProcesses()
      this.state = 'stopped'
      if (!(await waitForPortFree(this.port))) throw new Error(`port ${this.port} still in use after stopping Dovecot ${this.instanceName}`)
    }
    if (this.state === 'stopped' && this.ownsDir && !options.keepDir) {
      await removeTempDir(this.dir)
      this.state = 'removed'
    }
  }

  async restart(): Promise<void> {
    if (this.state === 'removed') throw new Error('restart() after stop(): the data directory is gone')
    await this.stopProcesses()
    this.state = 'stopped'
    await retryWhileAddressInUse(() => this.start())
  }

  doveadm(args: readonly string[], input?: Buffer | string): Promise<DoveadmResult> {
    return runDoveadm(this.confPath, args, input)
  }

  async changeUidValidity(user: string, folder: string, newValue?: number): Promise<void> {
    const value = newValue ?? Math.max((await folderStatus(this, user, folder)).uidValidity + 1, await this.nextUidValidity(user))
    await this.doveadm(['mailbox', 'update', '-u', user, '--uid-validity', String(value), folder])
  }

  /**
   * The next UIDVALIDITY Dovecot would give a new folder of `user`, taken from its own counter:
   * a scratch folder is created, its value read, and the folder deleted. `mailbox update` does
   * not advance that counter (a per-user file, next = max(now, last + 1)), so a value picked
   * as "current + 1" is one Dovecot hands out again to the next folder created in the same
   * second: a folder deleted and created again then had the UIDVALIDITY of the old one with
   * other messages under its UIDs, which RFC 3501 §2.3.1.1 forbids and no real server does
   * (the sequence test's seed 1695797241, docs/reliability.md). A value taken from the counter
   * is never issued again.
   */
  private async nextUidValidity(user: string): Promise<number> {
    const scratch = `${this.prefix}mailkeep-uidvalidity-${randomBytes(6).toString('hex')}`
    await this.doveadm(['mailbox', 'create', '-u', user, scratch])
    try {
      const {stdout} = await this.doveadm(['mailbox', 'status', '-u', user, 'uidvalidity', scratch])
      const value = Number(/uidvalidity=(\d+)/.exec(stdout)?.[1])
      if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`doveadm mailbox status gave no UIDVALIDITY: ${stdout.trim()}`)
      return value
    } finally {
      await this.doveadm(['mailbox', 'delete', '-u', user, scratch])
    }
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '')
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd()
  }

  private async writeConfig(): Promise<void> {
    await writeFile(this.confPath, renderConfig(this), {mode: 0o644})
  }

  get config(): ResolvedOptions {
    return this.options
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    let spawnError: Error | undefined
    let exited = false
    child.once('error', (error) => (spawnError = error))
    child.once('exit', () => (exited = true))
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000)
    let lastError: unknown
    for (;;) {
      if (spawnError) throw new Error(`cannot run ${DOVECOT_BIN}: ${spawnError.message}`, {cause: spawnError})
      if (exited) {
        const text = `${this.outputOf()}\n${await this.logTail(20)}`
        if (/Address already in use/i.test(text)) throw new AddressInUseError(this.port)
        throw new Error(`Dovecot exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`)
      }
      try {
        await this.probe()
        return
      } catch (error) {
        lastError = error
      }
      if (Date.now() > deadline) {
        throw new Error(`Dovecot did not become ready on ${this.host}:${this.port} within the start timeout: ${(lastError as Error).message}`)
      }
      await sleep(50)
    }
  }

  /**
   * Ready means: our greeting (which names this instance, so a server of another test file that
   * grabbed the port cannot fool us) and a successful LOGIN (the auth process is up).
   */
  private async probe(): Promise<void> {
    const client = await RawImapClient.connect({host: this.host, port: this.port, timeoutMs: 5000})
    try {
      if (!client.greeting.text.includes(this.instanceName)) throw new Error(`foreign server on port ${this.port}: ${client.greeting.text}`)
      const user = this.users[0]!
      await client.login(user.user, user.password)
    } finally {
      await client.logout()
    }
  }

  private async diagnostics(): Promise<string> {
    return [`dovecot -F -c ${this.confPath}`, `output: ${this.outputOf().trim() || '(none)'}`, `log tail (${this.logPath}):`, await this.logTail(25)].join('\n')
  }

  /**
   * Stops the master by the PID we started, then every process of this instance by its PID.
   *
   * Left alone, Dovecot 2.3's master takes over a second to shut down (it waits for its log
   * process), and an imap process serving a client outlives it until the client leaves. A
   * restarted server drops its clients, and tests should not wait, so the instance's other
   * processes get SIGTERM at the same moment (an imap process then logs "Server shutting
   * down"); the master exits within ~50 ms. Whatever lingers gets SIGKILL.
   */
  async stopProcesses(): Promise<void> {
    const child = this.child
    if (!child) return
    await stopAll(child, () => this.processes(), STOP_TIMEOUT_MS)
    live.delete(this)
  }

  /** Processes of this instance: the master (its argv names our config) and its children. */
  processes(): ProcessInfo[] {
    return listProcesses().filter((p) => p.cmdline.includes(this.confPath) || p.cmdline.startsWith(`dovecot-${this.instanceName}/`))
  }
}

function renderConfig(instance: Instance): string {
  const {dir, storage, separator, prefix} = instance
  const options = instance.config
  const mail = join(dir, 'mail')
  const location =
    storage === 'maildir'
      ? // Maildir++ keeps '.' as its own separator; '/' needs the fs layout.
        separator === '.'
        ? 'maildir:~/Maildir'
        : 'maildir:~/Maildir:LAYOUT=fs'
      : `${storage}:~/${storage}`
  const lines = [
    `# Generated by test/support/dovecot.ts for one test run; see docs/testing.md.`,
    `instance_name = ${instance.instanceName}`,
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${instance.logPath}`,
    `info_log_path = ${instance.logPath}`,
    `protocols = imap`,
    `listen = ${instance.host}`,
    `ssl = no`,
    `default_internal_user = dovecot`,
    `default_login_user = dovenull`,
    `first_valid_uid = ${MAIL_UID}`,
    `last_valid_uid = ${MAIL_UID}`,
    `first_valid_gid = ${MAIL_UID}`,
    `last_valid_gid = ${MAIL_UID}`,
    `disable_plaintext_auth = no`,
    `auth_mechanisms = plain login`,
    `auth_failure_delay = 0`,
    `login_greeting = Dovecot ${instance.instanceName} ready.`,
    `mail_location = ${location}`,
    `mail_fsync = never`,
    `namespace inbox {`,
    `  inbox = yes`,
    `  separator = ${separator}`,
    `  prefix = ${prefix}`,
    `}`,
    `passdb {`,
    `  driver = passwd-file`,
    `  args = ${join(dir, 'users')}`,
    `}`,
    `userdb {`,
    `  driver = passwd-file`,
    `  args = ${join(dir, 'users')}`,
    `  default_fields = uid=${MAIL_UID} gid=${MAIL_UID} home=${mail}/%u`,
    `}`,
    // No growing delay after failed logins (Dovecot's anvil auth penalty, up to 15 s per IP):
    // a test of a wrong password must not slow down the next test's logins.
    `service anvil {`,
    `  unix_listener anvil-auth-penalty {`,
    `    mode = 0`,
    `  }`,
    `}`,
    `protocol imap {`,
    `  mail_max_userip_connections = 200`,
    `}`,
    `service imap-login {`,
    `  inet_listener imap {`,
    `    address = ${instance.host}`,
    `    port = ${instance.port}`,
    `  }`,
    `  inet_listener imaps {`,
    `    port = 0`,
    `  }`,
    `}`,
  ]
  if (options.capabilities !== undefined) lines.push(`imap_capability = ${options.capabilities}`)
  if (options.extraConfig) lines.push(options.extraConfig)
  return lines.join('\n') + '\n'
}

export function runDoveadm(confPath: string, args: readonly string[], input?: Buffer | string, timeoutMs = 60_000): Promise<DoveadmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOVEADM_BIN, ['-c', confPath, ...args], {stdio: ['pipe', 'pipe', 'pipe'], env: {PATH: process.env.PATH ?? '', TZ: 'UTC'}})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`cannot run ${DOVEADM_BIN}: ${error.message}`, {cause: error}))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const result = {stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}
      if (code === 0) resolve(result)
      else reject(new Error(`doveadm ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${result.stderr.trim() || result.stdout.trim()}`))
    })
    // EPIPE when doveadm does not read its input: the exit status tells what went wrong.
    child.stdin.on('error', () => undefined)
    child.stdin.end(input ?? '')
  })
}

function validate(separator: Separator, prefix: string, users: TestUser[]): void {
  if (separator !== '/' && separator !== '.') throw new Error(`unsupported separator ${JSON.stringify(separator)}`)
  if (prefix !== '' && !prefix.endsWith(separator)) throw new Error(`prefix ${JSON.stringify(prefix)} must end with the separator '${separator}'`)
  if (users.length === 0) throw new Error('at least one user is needed (the start-up probe logs in as the first)')
  for (const {user, password} of users) {
    // The passwd-file is colon separated, and the user name becomes a directory name.
    if (!/^[A-Za-z0-9._@+-]+$/.test(user)) throw new Error(`unsupported test user name ${JSON.stringify(user)}`)
    if (/[:\r\n]/.test(password) || password === '') throw new Error(`unsupported password for ${user}: empty, or contains ':' or a line break`)
  }
}

/** Dovecot's processes run as uid 5000, dovecot and dovenull: each must be able to reach `dir`. */
async function checkSearchable(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o711})
  if ((await lstat(dir)).isSymbolicLink()) throw new Error(`Dovecot data dir ${dir} is a symlink`)
  for (let d = dir; ; d = dirname(d)) {
    const mode = (await stat(d)).mode
    if ((mode & 0o001) === 0) throw new Error(`Dovecot data dir ${dir}: '${d}' is not searchable by others (mode ${(mode & 0o777).toString(8)}); use chmod o+x or another directory`)
    if (dirname(d) === d) return
  }
}

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
  const gid = Number(line?.split(':')[2])
  if (!Number.isInteger(gid)) throw new Error(`group '${name}' not found: is Dovecot installed (scripts/install-dovecot.sh)?`)
  return gid
}

// A test that forgets stop(), or a worker that exits on an error, must not leave servers behind.
// 'exit' handlers run synchronously, so this kills by PID without waiting.
process.once('exit', () => {
  for (const instance of live) for (const proc of instance.processes()) killQuietly(proc.pid, 'SIGKILL')
})
