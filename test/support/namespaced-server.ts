/**
 * What the Cyrus and Courier harnesses share: an IMAP server unpacked into the private root of
 * `scripts/install-imap-servers.sh`, run as a child process in its own mount namespace
 * (`private-namespace.ts`) on a free port of 127.0.0.1 with a temp dir for its data, config and
 * log, and stopped by PID with every process of that namespace.
 */
import type {ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {chmod, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Separator, TestUser} from './dovecot.js'
import {AddressInUseError, LOOPBACK, retryOnAddressInUse, retryWhileAddressInUse, waitForPortFree} from './ports.js'
import {killQuietly, mountNamespace, outputTail, processesInNamespace, sleep, stopAll, type ProcessInfo} from './processes.js'
import {SyslogReceiver, spawnInNamespace, type NamespaceSpec} from './private-namespace.js'
import {RawImapClient} from './raw-imap.js'
import {makeTempDir, removeTempDir} from './temp-dir.js'

/** Where `scripts/install-imap-servers.sh` unpacked Cyrus and Courier. */
export const SERVERS_ROOT = process.env.MAILKEEP_TEST_SERVERS_ROOT ?? '/opt/mailkeep-test-servers'
const STOP_TIMEOUT_MS = 10_000

export interface ServerCommand {
  argv: string[]
  env: NodeJS.ProcessEnv
  namespace: Omit<NamespaceSpec, 'dir' | 'syslogSocket'>
}

/** Every instance not stopped yet, for the exit hook below. */
const live = new Set<NamespacedServer>()

export abstract class NamespacedServer {
  readonly host = LOOPBACK
  readonly logPath: string
  /** Unique per instance: used in names that must not clash between instances. */
  readonly instanceName = `mailkeep-${randomBytes(5).toString('hex')}`
  port = 0
  private child: ChildProcess | undefined
  private namespace: string | undefined
  private syslog: SyslogReceiver | undefined
  private outputOf: () => string = () => ''
  private state: 'new' | 'running' | 'stopped' | 'removed' = 'new'

  protected constructor(
    readonly dir: string,
    readonly users: readonly TestUser[],
    readonly separator: Separator,
    readonly prefix: string,
    private readonly startTimeoutMs: number,
  ) {
    this.logPath = join(dir, 'server.log')
  }

  /** Name for messages: 'Cyrus', 'Courier'. */
  protected abstract readonly title: string
  /** Writes config, users and mail directories (once, before the first start). */
  protected abstract prepare(): Promise<void>
  /** The server's command line for this port (config files that name the port are rewritten here). */
  protected abstract command(): Promise<ServerCommand>

  get pid(): number {
    return this.child?.pid ?? 0
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Makes the temp dir, prepares it and starts on a free port; cleans up on failure. */
  protected static async launch<T extends NamespacedServer>(make: (dir: string) => T, prefix: string): Promise<T> {
    requireInstalled()
    const dir = await makeTempDir(prefix)
    let instance: T | undefined
    try {
      // The servers' own users must reach their files below it.
      await chmod(dir, 0o711)
      instance = make(dir)
      await instance.prepare()
      await instance.startOnFreePort()
      return instance
    } catch (error) {
      await instance?.stop().catch(() => undefined)
      await removeTempDir(dir).catch(() => undefined)
      throw error
    }
  }

  private async startOnFreePort(): Promise<void> {
    // Another test file may take the port between our check and the server's bind: then
    // another port is tried (ports.ts). A start that fails otherwise (Cyrus once did not become
    // ready in a clean-clone CI on a loaded 2-core machine) is tried once more, on the same data
    // as restart() does, and its error is printed, so that a server that cannot start at all
    // still fails the tests with both errors.
    const once = (): Promise<void> =>
      retryOnAddressInUse((port) => {
        this.port = port
        return this.start()
      })
    try {
      await once()
    } catch (first) {
      process.stderr.write(`${this.title} ${this.instanceName}: start failed, trying once more: ${(first as Error).message}\n`)
      try {
        await once()
      } catch (second) {
        throw new Error(`${(second as Error).message}\n(the first start failed too: ${(first as Error).message})`, {cause: second})
      }
    }
  }

  private async start(): Promise<void> {
    this.syslog ??= await SyslogReceiver.start(join(this.dir, 'syslog.sock'), this.logPath)
    const {argv, env, namespace} = await this.command()
    const child = await spawnInNamespace({...namespace, dir: this.dir, syslogSocket: this.syslog.socketPath}, argv, env)
    this.child = child
    this.namespace = undefined
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

  /**
   * Stops the server and every process of its namespace, waits until the port is free, then
   * removes the temp dir (unless `keepDir`). Safe to call twice.
   */
  async stop(options: {keepDir?: boolean} = {}): Promise<void> {
    if (this.state === 'running' || this.state === 'new') {
      await this.stopProcesses()
      if (this.state === 'running' && !(await waitForPortFree(this.port))) throw new Error(`port ${this.port} still in use after stopping ${this.title} ${this.instanceName}`)
      this.state = 'stopped'
    }
    if (this.state === 'stopped') {
      await this.syslog?.close()
      this.syslog = undefined
      if (!options.keepDir) {
        await removeTempDir(this.dir)
        this.state = 'removed'
      }
    }
  }

  /** Stops and starts again on the same port with the same data (a server restart). */
  async restart(): Promise<void> {
    if (this.state === 'removed') throw new Error('restart() after stop(): the data directory is gone')
    await this.stopProcesses()
    this.state = 'stopped'
    await retryWhileAddressInUse(() => this.start())
  }

  /** The last lines of the instance's log (what it sent to syslog, plus its own log files). */
  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '')
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd()
  }

  /** Processes of this instance: everything in its mount namespace. */
  processes(): ProcessInfo[] {
    return this.namespace === undefined ? [] : processesInNamespace(this.namespace)
  }

  private async stopProcesses(): Promise<void> {
    const child = this.child
    if (!child) return
    // The namespace of a child that already exited cannot be read any more; its processes
    // were found before (waitUntilReady) or there are none.
    this.namespace ??= this.ownNamespace()
    await stopAll(child, () => this.processes(), STOP_TIMEOUT_MS)
    live.delete(this)
  }

  private ownNamespace(): string | undefined {
    const pid = this.child?.pid
    if (pid === undefined) return undefined
    const ns = mountNamespace(pid)
    // Until unshare has run, the child is still in ours.
    return ns !== undefined && ns !== mountNamespace(process.pid) ? ns : undefined
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    let spawnError: Error | undefined
    let exited = false
    child.once('error', (error) => (spawnError = error))
    child.once('exit', () => (exited = true))
    const deadline = Date.now() + this.startTimeoutMs
    let lastError: unknown
    for (;;) {
      this.namespace ??= this.ownNamespace()
      if (spawnError) throw new Error(`cannot start ${this.title}: ${spawnError.message}`, {cause: spawnError})
      if (exited) {
        if (/Address already in use/i.test(`${this.outputOf()}\n${await this.logTail(20)}`)) throw new AddressInUseError(this.port)
        throw new Error(`${this.title} exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`)
      }
      try {
        await this.probe()
        return
      } catch (error) {
        lastError = error
      }
      if (/Address already in use/i.test(await this.logTail(20))) throw new AddressInUseError(this.port)
      if (Date.now() > deadline) {
        throw new Error(`${this.title} did not become ready on ${this.host}:${this.port} within the start timeout: ${(lastError as Error).message}`)
      }
      await sleep(50)
    }
  }

  /**
   * Ready means: the socket listening on our port belongs to a process of our namespace (so a
   * server of another test file that grabbed the port cannot fool us), and the first user can
   * LOGIN (authentication is up).
   */
  private async probe(): Promise<void> {
    if (this.namespace === undefined || !this.listensHere()) throw new Error(`nothing of ${this.instanceName} listens on port ${this.port} yet`)
    const client = await RawImapClient.connect({host: this.host, port: this.port, timeoutMs: 5000})
    try {
      const user = this.users[0]!
      await client.login(user.user, user.password)
    } finally {
      await client.logout()
    }
  }

  private listensHere(): boolean {
    const inodes = listeningInodes(this.port)
    if (inodes.size === 0) return false
    for (const proc of this.processes()) {
      let fds: string[]
      try {
        fds = readdirSync(`/proc/${proc.pid}/fd`)
      } catch {
        continue
      }
      for (const fd of fds) {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${proc.pid}/fd/${fd}`))
          if (match && inodes.has(match[1]!)) return true
        } catch {
          // Closed meanwhile.
        }
      }
    }
    return false
  }

  private async diagnostics(): Promise<string> {
    return [`${this.title} in ${this.dir}`, `output: ${this.outputOf().trim() || '(none)'}`, `log tail (${this.logPath}):`, await this.logTail(25)].join('\n')
  }

  /** For the exit hook. */
  killNow(): void {
    for (const proc of this.processes()) killQuietly(proc.pid, 'SIGKILL')
    if (this.child?.pid !== undefined) killQuietly(this.child.pid, 'SIGKILL')
  }
}

/** Inodes of the TCP sockets listening on 127.0.0.1:`port` (or any address), from /proc/net. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>()
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      // local_address is ADDR:PORT in hex; st 0A is LISTEN; the inode is field 9.
      if (fields.length > 9 && fields[1]!.endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9]!)
    }
  }
  return inodes
}

function requireInstalled(): void {
  if (!existsSync(join(SERVERS_ROOT, '.installed'))) {
    throw new Error(`Cyrus and Courier are not installed in ${SERVERS_ROOT}: run \`npm run servers:install\` as root (or set MAILKEEP_TEST_SERVERS=dovecot)`)
  }
}

// A test that forgets stop(), or a worker that exits on an error, must not leave servers behind.
// 'exit' handlers run synchronously, so this kills by PID without waiting.
process.once('exit', () => {
  for (const instance of live) instance.killNow()
})
