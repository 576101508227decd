/**
 * SIGKILL of the real CLI in the middle of an upload, at an exact APPEND seen by the proxy in
 * front of the destination: before it reaches the server (the kill lands while the proxy holds
 * the command), in the middle of a large literal, or after earlier APPENDs completed but before
 * the next batch made their UIDs durable. Used by test/restore/kill.test.ts and
 * test/transfer/kill.test.ts.
 */
import {expect} from 'vitest'
import type {CliResult} from '../support/cli.js'
import type {TcpProxy} from '../support/tcp-proxy.js'
import {show, spawnMailkeep} from '../cli/helpers.js'

export type KillPoint = {append: number} | {literalAbove: number; afterMs: number}

/**
 * Runs `mailkeep args` and kills it with SIGKILL at the kill point (counting APPENDs of this run
 * only). Returns how many APPEND commands this run sent and what it logged. Fails if the run ended
 * by itself first.
 */
export async function killDuringUpload(home: string, args: readonly string[], proxy: TcpProxy, point: KillPoint): Promise<{appends: number; stderr: string}> {
  const run = spawnMailkeep(home, args)
  let count = 0
  let killed = false
  const off = proxy.onCommand((command) => {
    if (command.name !== 'APPEND' || killed) return
    count++
    if ('append' in point && count === point.append) {
      killed = true
      run.kill('SIGKILL')
    } else if ('literalAbove' in point) {
      const size = Number(/\{(\d+)\+?\}\s*$/.exec(command.line)?.[1] ?? 0)
      if (size > point.literalAbove) {
        killed = true
        setTimeout(() => run.kill('SIGKILL'), point.afterMs)
      }
    }
  })
  let result: CliResult
  try {
    result = await run.exited
  } finally {
    off()
  }
  expect(result.signal, `the run should have been killed at ${JSON.stringify(point)}, but it ended:\n${show(result)}`).toBe('SIGKILL')
  return {appends: count, stderr: result.stderr}
}
