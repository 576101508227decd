/**
 * Runs a whole process and measures it from the outside: wall time (spawn to exit, measured
 * here), peak RSS of the process (the kernel's `ru_maxrss`, i.e. the VmHWM it reached, as reported
 * by `/usr/bin/time -f %M`) and its CPU time (user + system). CPU time is less disturbed by other
 * load on a shared machine than wall time, so tables show both.
 *
 * Without /usr/bin/time the peak RSS is sampled from /proc/<pid>/status (VmHWM) every 10 ms,
 * which can miss the last few milliseconds of a process; CPU time is then unknown.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

const TIME_BIN = '/usr/bin/time'

export interface ProcessStats {
  wallMs: number
  /** Peak resident set size of the process, MiB. */
  peakRssMb: number
  /** User + system CPU seconds; NaN when unknown. */
  cpuS: number
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  /**
   * Added to this process's environment; `undefined` removes a variable. NODE_ENV is always
   * removed unless given here: vite-node sets it to "development", and a CLI that inherits it may
   * behave unlike a user's (oclif then looks for TypeScript sources).
   */
  env?: Record<string, string | undefined>
  cwd?: string
  /** Kill the process (SIGKILL) after this long. Default 30 minutes. */
  timeoutMs?: number
}

let counter = 0

/** Runs `command args…` to completion (no shell) and returns its measurements. */
export async function measureProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessStats> {
  const env: NodeJS.ProcessEnv = {...process.env}
  delete env['NODE_ENV']
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  const useTime = existsSync(TIME_BIN)
  const statsFile = join(tmpdir(), `mailkeep-bench-time-${process.pid}-${++counter}.txt`)
  const argv = useTime ? ['-f', '%M %U %S', '-o', statsFile, command, ...args] : [...args]
  const started = performance.now()
  const child = spawn(useTime ? TIME_BIN : command, argv, {cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.on('data', (c: Buffer) => err.push(c))
  let sampledKb = 0
  const sampler = useTime ? undefined : setInterval(() => void sampleHwm(child.pid).then((kb) => (sampledKb = Math.max(sampledKb, kb))), 10)
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c) => resolve(c))
  })
  const wallMs = performance.now() - started
  clearTimeout(timer)
  if (sampler) clearInterval(sampler)
  let peakKb = sampledKb
  let cpuS = Number.NaN
  if (useTime) {
    const text = await readFile(statsFile, 'utf8').catch(() => '')
    await rm(statsFile, {force: true})
    // /usr/bin/time prefixes "Command exited with non-zero status N" when the command failed.
    const last = text.trim().split('\n').pop() ?? ''
    const [m, u, s] = last.split(' ').map(Number)
    peakKb = m ?? 0
    cpuS = (u ?? Number.NaN) + (s ?? Number.NaN)
  }
  return {wallMs, peakRssMb: peakKb / 1024, cpuS, code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}
}

async function sampleHwm(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const m = /^VmHWM:\s+(\d+) kB/m.exec(status)
  return m ? Number(m[1]) : 0
}

/** Throws with the tail of the output when a measured process failed. */
export function expectSuccess(what: string, stats: ProcessStats): ProcessStats {
  if (stats.code !== 0) {
    const tail = (s: string) => s.split('\n').slice(-30).join('\n')
    throw new Error(`${what} exited with ${String(stats.code)}\n--- stdout ---\n${tail(stats.stdout)}\n--- stderr ---\n${tail(stats.stderr)}`)
  }
  return stats
}
