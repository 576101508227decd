/**
 * The real servers a behaviour test runs against, as `describe.each(SERVERS)`: each starts a
 * private instance on 127.0.0.1 and hands back the `ImapServer` that the mail-seed helpers take.
 * Dovecot is always there; the harness's other servers join the list as they are added.
 */
import {afterAll, beforeAll} from 'vitest'
import {startDovecot} from '../support/dovecot.js'
import type {ImapServer} from '../support/mail-seed.js'

export interface RunningServer {
  instance: ImapServer
  stop(): Promise<void>
}

export interface ServerKind {
  name: string
  start(): Promise<RunningServer>
}

export const SERVERS: ServerKind[] = [
  {
    name: 'Dovecot',
    start: async () => {
      const dc = await startDovecot()
      return {instance: dc, stop: () => dc.stop()}
    },
  },
]

/**
 * In a `describe.each(SERVERS)` block: starts the server before its tests and stops it after;
 * returns a getter for the running server.
 */
export function useServer(kind: ServerKind): () => RunningServer {
  let running: RunningServer | undefined
  beforeAll(async () => {
    running = await kind.start()
  })
  afterAll(async () => {
    await running?.stop()
  })
  return () => {
    if (running === undefined) throw new Error(`${kind.name} is not running`)
    return running
  }
}
