/**
 * remoteNamespaces(): imap-backup's shape from the IMAP layer's Namespaces (RFC 2342): the first
 * namespace of each kind, `null` for a kind without one, a NIL delimiter kept as null.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseConfig} from '../../config/index.js'
import type {Connect, ImapSession, Namespaces} from '../../imap/types.js'
import {silentContext} from '../../shared/context.js'
import {testTempDir} from '../../../test/support/temp-dir.js'
import {remoteNamespaces} from './remote-namespaces.js'

async function query(namespaces: Namespaces): Promise<Parameters<typeof remoteNamespaces>[0]> {
  const dir = await testTempDir()
  const config = parseConfig(
    {version: '2.2', accounts: [{username: 'me@example.test', password: 'unit-test-pw', server: '127.0.0.1', connection_options: {port: 143, ssl: false}}]},
    join(dir, 'config.json'),
  )
  const session = {namespaces: async () => namespaces, logout: async () => undefined, close: () => undefined}
  const connect: Connect = async () => session as unknown as ImapSession
  return {config, email: 'me@example.test', connect}
}

describe('remoteNamespaces', () => {
  it('keeps the first of each kind, in the order personal, other, shared', async () => {
    const result = await remoteNamespaces(
      await query({
        personal: [{prefix: 'INBOX.', delimiter: '.'}, {prefix: '#mh/', delimiter: '/'}],
        other: [],
        shared: [{prefix: 'other_public.', delimiter: '.'}],
      }),
      silentContext(),
    )
    expect(JSON.stringify(result)).toBe('{"personal":{"prefix":"INBOX.","delim":"."},"other":null,"shared":{"prefix":"other_public.","delim":"."}}')
  })

  it('a flat namespace (NIL delimiter) has delim null', async () => {
    const result = await remoteNamespaces(await query({personal: [{prefix: '', delimiter: null}], other: [], shared: []}), silentContext())
    expect(JSON.stringify(result)).toBe('{"personal":{"prefix":"","delim":null},"other":null,"shared":null}')
  })
})
