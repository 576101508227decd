/**
 * Random moments to stop a running CLI (SIGKILL, SIGINT, SIGTERM), placed by what the proxy in
 * front of the server sees or by what the backup directory shows:
 *
 *  - `startup`: a random time after the process started (it may still be loading);
 *  - `delay`: a random time after it logged in;
 *  - `login`: as it logs in (the account's lock is taken by then);
 *  - `examine`: at the n-th EXAMINE, i.e. right after the previous folder was committed;
 *  - `fetch`: a little after the n-th body FETCH was sent (the link is throttled, so usually in
 *    the middle of its literals);
 *  - `savepoint`: right after the n-th savepoint of any folder reached the journal;
 *  - `append`: at or a little after the n-th APPEND (restore, copy), possibly mid-literal.
 *
 * A fallback fires `fallbackMs` after the login in any case (or 15 s after the start if it never
 * logs in), so that a trigger that never comes (a folder without enough savepoints) still ends in
 * a kill. Times count from the login because starting the CLI takes a second or more of CPU.
 */
import {readFile} from 'node:fs/promises'
import type {TcpProxy} from '../../support/tcp-proxy.js'
import type {Rng} from './rng.js'
import {folderBase} from './verify.js'

export type TriggerKind = 'startup' | 'delay' | 'login' | 'examine' | 'fetch' | 'savepoint' | 'append'

export interface Trigger {
  kind: TriggerKind
  /** delay: ms after the start; others: which occurrence (1-based). */
  n: number
  /** Extra wait after the event, ms. */
  afterMs: number
}

export function randomTrigger(rng: Rng, kinds: readonly TriggerKind[]): Trigger {
  const kind = rng.pick(kinds)
  switch (kind) {
    case 'startup':
      return {kind, n: rng.int(100, 2500), afterMs: 0}
    case 'delay':
      return {kind, n: rng.int(0, 2000), afterMs: 0}
    case 'login':
      return {kind, n: 1, afterMs: rng.int(0, 60)}
    case 'examine':
      return {kind, n: rng.int(1, 4), afterMs: rng.chance(0.5) ? 0 : rng.int(1, 30)}
    case 'fetch':
      return {kind, n: rng.int(1, 8), afterMs: rng.int(0, 250)}
    case 'savepoint':
      return {kind, n: rng.int(1, 5), afterMs: rng.chance(0.5) ? 0 : rng.int(1, 20)}
    case 'append':
      return {kind, n: rng.int(1, 40), afterMs: rng.chance(0.4) ? 0 : rng.int(1, 200)}
  }
}

export function describeTrigger(t: Trigger): string {
  if (t.kind === 'startup') return `${t.n} ms after the start`
  if (t.kind === 'delay') return `${t.n} ms after the login`
  return `${t.kind} #${t.n} + ${t.afterMs} ms`
}

/**
 * Arms `trigger`: calls `fire()` once when it happens (or at the fallback). Returns a disarm
 * function. `root` and `folders` are needed for `savepoint`.
 */
export function arm(trigger: Trigger, fire: (how: 'trigger' | 'fallback') => void, options: {proxy: TcpProxy; root?: string; folders?: readonly string[]; fallbackMs: number}): () => void {
  let done = false
  const timers: NodeJS.Timeout[] = []
  const once = (how: 'trigger' | 'fallback'): void => {
    if (done) return
    done = true
    fire(how)
  }
  const later = (ms: number, how: 'trigger' | 'fallback' = 'trigger'): void => {
    if (ms <= 0) once(how)
    else timers.push(setTimeout(() => once(how), ms))
  }
  const offs: Array<() => void> = []
  let poll: NodeJS.Timeout | undefined
  const count = {n: 0}
  const isLogin = (name: string): boolean => name === 'LOGIN' || name === 'AUTHENTICATE'
  const on = (match: (name: string, line: string) => boolean): void => {
    offs.push(
      options.proxy.onCommand((c) => {
        if (done || !match(c.name, c.line)) return
        if (++count.n === trigger.n) later(trigger.afterMs)
      }),
    )
  }
  // The fallback (and `delay`) count from the first login.
  let loggedIn = false
  offs.push(
    options.proxy.onCommand((c) => {
      if (loggedIn || !isLogin(c.name)) return
      loggedIn = true
      timers.push(setTimeout(() => once('fallback'), options.fallbackMs))
      if (trigger.kind === 'delay') later(trigger.n)
    }),
  )
  switch (trigger.kind) {
    case 'startup':
      later(trigger.n)
      break
    case 'delay':
      break
    case 'login':
      on(isLogin)
      break
    case 'examine':
      on((name) => name === 'EXAMINE' || name === 'SELECT')
      break
    case 'fetch':
      on((name, line) => name === 'UID FETCH' && /BODY\.PEEK\[/i.test(line))
      break
    case 'append':
      on((name) => name === 'APPEND')
      break
    case 'savepoint': {
      const folders = options.folders ?? []
      poll = setInterval(() => {
        void (async () => {
          let total = 0
          for (const f of folders) total += await savepoints(`${folderBase(options.root!, f)}.imap.journal`)
          if (total >= trigger.n) later(trigger.afterMs)
        })()
      }, 5)
      break
    }
  }
  timers.push(setTimeout(() => once('fallback'), 15_000))
  return () => {
    done = true
    for (const off of offs) off()
    if (poll !== undefined) clearInterval(poll)
    for (const t of timers) clearTimeout(t)
  }
}

async function savepoints(journal: string): Promise<number> {
  try {
    const text = await readFile(journal, 'utf8')
    let n = 0
    for (const line of text.split('\n')) if (line.startsWith('{"t":"c"')) n++
    return n
  } catch {
    return 0
  }
}
