// `local list` on a 100,000-message folder: header blocks only, bounded reads.
import {writeFile, mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {listMessages} from '../../src/engine/inspect/local-list.js'
import {silentContext} from '../../src/shared/context.js'
import {testTempDir} from '../support/temp-dir.js'
import {writeConfig} from './helpers.js'

it('lists 100,000 messages (one of them 20 MB) quickly, reading only header blocks', async () => {
  const home = await testTempDir('mailkeep-list-speed-')
  const root = join(home, 'backup')
  await mkdir(root, {recursive: true, mode: 0o700})
  const count = 100_000
  const parts: Buffer[] = []
  const messages: Array<{uid: number; offset: number; length: number; flags: string[]}> = []
  let offset = 0
  for (let i = 0; i < count; i++) {
    const body = i === 500 ? 'x'.repeat(76) + '\n' : `body ${i}\n`
    const text = `From a@example.test Tue Mar  5 08:07:09 2024\n>From: a@example.test\nSubject: Message ${i}\nDate: Tue, 5 Mar 2024 08:07:09 +0100\n\n${i === 500 ? body.repeat(270_000) : body}\n`
    const entry = Buffer.from(text)
    parts.push(entry)
    messages.push({uid: i + 1, offset, length: entry.length, flags: []})
    offset += entry.length
  }
  await writeFile(join(root, 'Big.mbox'), Buffer.concat(parts))
  await writeFile(join(root, 'Big.imap'), JSON.stringify({version: 3, uid_validity: 1, messages}))
  const config = await writeConfig(home, [{username: 'me@example.test', password: 'x', local_path: root}])
  const started = Date.now()
  const list = await listMessages(config, 'me@example.test', 'Big', silentContext())
  const seconds = (Date.now() - started) / 1000
  expect(list).toHaveLength(count)
  expect(list[500]).toMatchObject({uid: 501, subject: 'Message 500', date: '2024-03-05T08:07:09+01:00'})
  console.log(`local list: ${count} messages in ${seconds.toFixed(1)} s`)
  expect(seconds).toBeLessThan(20)
}, 180_000)
