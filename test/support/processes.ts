/**
 * Processes of the test servers: finding them in /proc, stopping them by PID, and the kernel's
 * parent-death signal. Shared by the Dovecot, Cyrus and Courier harnesses (Linux only; the
 * suite runs as root on Debian).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'

const SETPRIV_BIN = '/usr/bin/setpriv'

export interface ProcessInfo {
  pid: number
  ppid: number
  /** Start time in clock ticks since boot: with the PID, it names one process for good. */
  startTime: string
  cmdline: string
}

/**
 * All live processes, read from /proc (Linux). Zombies are left out: they have ended, and
 * children orphaned by the master are reparented to PID 1, which in a container may take its
 * time to reap them.
 */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      // The command name is in parentheses and may contain spaces: parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (fields[0] === 'Z' || fields[0] === 'X') continue
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ')
      out.push({pid: Number(entry), ppid: Number(fields[1]), startTime: fields[19] ?? '', cmdline})
    } catch {
      // The process ended while we looked.
    }
  }
  return out
}

/** Whether the process runs: it exists and is not a zombie (reaped by nobody, in a container). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

/** The mount namespace of a process (`mnt:[4026532…]`), or undefined when it is gone. */
export function mountNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`)
  } catch {
    return undefined
  }
}

/**
 * Every live process in the mount namespace `ns`. A server started in a private mount namespace
 * (`private-namespace.ts`) passes it on to everything it starts, whatever user a process
 * switches to or whichever parent it is reparented to, and no other process of the machine
 * is in it: so this finds exactly that server's processes.
 */
export function processesInNamespace(ns: string): ProcessInfo[] {
  return listProcesses().filter((p) => mountNamespace(p.pid) === ns)
}

export function stillAlive(processes: ProcessInfo[]): ProcessInfo[] {
  if (processes.length === 0) return []
  const now = new Map(listProcesses().map((p) => [p.pid, p.startTime]))
  return processes.filter((p) => now.get(p.pid) === p.startTime)
}

export function uniqueByPid(processes: ProcessInfo[]): ProcessInfo[] {
  return [...new Map(processes.map((p) => [p.pid, p])).values()]
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone.
  }
}

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * Ends `child` and every process `others()` names: SIGTERM to all at once, SIGKILL to the child
 * after `timeoutMs`, then SIGTERM and SIGKILL to whatever is left (re-read each round, so a
 * process started meanwhile is caught too). Only PIDs we started or found this way get a signal.
 */
export async function stopAll(child: ChildProcess, others: () => ProcessInfo[], timeoutMs: number): Promise<void> {
  const before = others()
  const leftovers = (): ProcessInfo[] => uniqueByPid(stillAlive(before).concat(others()))
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM')
    for (const proc of before) if (proc.pid !== child.pid) killQuietly(proc.pid, 'SIGTERM')
    if (!(await waitForExit(child, timeoutMs))) {
      child.kill('SIGKILL')
      await waitForExit(child, timeoutMs)
    }
  }
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    let left = leftovers()
    for (const proc of left) killQuietly(proc.pid, signal)
    const deadline = Date.now() + 2000
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(25)
      left = leftovers()
    }
    if (left.length === 0) break
  }
}

/**
 * `setpriv --pdeathsig SIGTERM` execs the command (same PID) with the kernel's parent-death
 * signal set, so a server is told to stop even when the test process dies without running any
 * handler (vitest ends its workers with SIGTERM, then SIGKILL). The kernel clears it when the
 * process changes its user (Cyrus's master does); then the exit hooks are the only guard.
 */
export function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  if (!existsSync(SETPRIV_BIN)) return [command, args]
  return [SETPRIV_BIN, ['--pdeathsig', 'SIGTERM', '--', command, ...args]]
}

/** Keeps the last 8 KiB of what `child` writes to stdout and stderr; the getter returns it. */
export function outputTail(child: ChildProcess): () => string {
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => output
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Runs a program to completion; rejects with its output when it fails. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe'], env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env}})
    const out: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => out.push(c))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const text = Buffer.concat(out).toString('utf8')
      if (code === 0) resolve(text)
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${text.trim()}`))
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(input ?? '')
  })
}

const systemUsers = new Map<string, {uid: number; gid: number}>()

/** uid and primary gid of a system user (from /etc/passwd), e.g. the one a server runs as. */
export function systemUser(name: string): {uid: number; gid: number} {
  const known = systemUsers.get(name)
  if (known) return known
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
  if (!line) throw new Error(`user '${name}' not found: run \`npm run servers:install\` as root`)
  const [, , uid, gid] = line.split(':')
  const ids = {uid: Number(uid), gid: Number(gid)}
  systemUsers.set(name, ids)
  return ids
}
