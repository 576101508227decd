/**
 * The world of most restore tests: a source Dovecot with one folder backed up, and a destination
 * Dovecot ('/' separator) behind a proxy that records and slows down what the restore sends.
 * Started in beforeAll and stopped in afterAll of the calling file; read the fields in tests.
 */
import {join} from 'node:path'
import {afterAll, beforeAll, expect} from 'vitest'
import {startDovecot, type DovecotInstance} from '../support/dovecot.js'
import {seedFolder} from '../support/mail-seed.js'
import {startProxy, type TcpProxy} from '../support/tcp-proxy.js'
import {makeTempDir, removeTempDir} from '../support/temp-dir.js'
import {accountFile, backup, makeConfig} from '../transfer/helpers.js'

export interface TwoServers {
  source: DovecotInstance
  dest: DovecotInstance
  /** In front of `dest`. */
  proxy: TcpProxy
  dir: string
  /** alice's backup (the source's first user). */
  root: string
}

export function useTwoServers(tempPrefix: string, folder: string, messages: number): TwoServers {
  const world = {} as TwoServers
  beforeAll(async () => {
    ;[world.source, world.dest] = await Promise.all([startDovecot({separator: '/'}), startDovecot({separator: '/'})])
    world.proxy = await startProxy({targetPort: world.dest.port})
    world.dir = await makeTempDir(tempPrefix)
    world.root = join(world.dir, 'alice')
    await seedFolder(world.source, world.source.users[0]!, folder, messages)
    expect((await backup(await makeConfig(world.dir, [accountFile(world.source, world.source.users[0]!, world.root)]))).exitCode).toBe(0)
  })
  afterAll(async () => {
    await world.proxy?.close()
    await world.source?.stop()
    await world.dest?.stop()
    if (world.dir !== undefined) await removeTempDir(world.dir)
  })
  return world
}
