/**
 * Runs append-child.mjs (the real store, from dist/) in a separate process and reports what it
 * said it committed. Shared by the crash and signal tests.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const CHILD = fileURLToPath(new URL('./append-child.mjs', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/store/account-store.js', import.meta.url))

export interface ChildRun {
  child: ChildProcess
  /** Highest UID the child reported as committed (every UID up to it is durable). */
  committed: () => number
  lines: string[]
  ready: Promise<void>
  exit: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

export function requireBuild(): void {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests')
}

export function startAppender(root: string, strategy: string, first: number, count: number, savepointMessages: number, commitEvery = 0): ChildRun {
  const child = spawn(process.execPath, [CHILD, root, strategy, String(first), String(count), String(savepointMessages), String(commitEvery)], {stdio: ['ignore', 'pipe', 'pipe']})
  const lines: string[] = []
  let committed = first - 1
  let stderr = ''
  let readyResolve!: () => void
  const ready = new Promise<void>((resolve) => (readyResolve = resolve))
  let buffered = ''
  child.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString()
    let nl
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      lines.push(line)
      if (line === 'ready') readyResolve()
      const m = /^committed (\d+)$/.exec(line)
      if (m) committed = Number(m[1])
    }
  })
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()))
  const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
    child.on('exit', (code, signal) => {
      readyResolve()
      if (code !== null && code !== 0 && code !== 130 && code !== 143) lines.push(`stderr: ${stderr}`)
      resolve({code, signal})
    })
  })
  return {child, committed: () => committed, lines, ready, exit}
}
