/**
 * Mirror mode keeps the original of a restored copy that the backup holds only as a placeholder
 * (docs/backup.md, B5). Found by the sequence test (Dovecot, seed 598330131): a message expunged
 * on the server was restored (a new UID), `utils ignore-history` then wrote a placeholder for
 * that new UID, and the next mirror-mode backup removed the original, the only real copy of a
 * message the server still had. Before the fix the last backup below held only the placeholder.
 *
 * The real CLI against each real server.
 */
import {readFile} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'
import {expunge, listUids} from '../support/mail-seed.js'
import {folderFiles} from '../cli/helpers.js'
import {backupContent, cli, CYCLE_SERVERS, cycleHome, seededFolder, useServer} from './cycle.js'

interface Meta {
  messages: Array<{uid: number}>
  mailkeep_restored?: Array<[number, number]>
}

describe.each(CYCLE_SERVERS)('restored copy held as a placeholder ($name)', (testServer) => {
  const world = useServer(testServer)

  it('mirror mode keeps the original: the server still has the message, the backup only its placeholder otherwise', async () => {
    const {server} = world
    const account = await cycleHome(server, [0], {mirror_mode: true})
    const alice = account.user
    const {folder, contents} = await seededFolder(server, account, 'Held', 300, 4)
    const before = await listUids(server, alice, folder)
    await expunge(server, alice, folder, [before[1]!])
    const restored = await cli<{folders: Array<{source: string; uploaded: number}>}>(account.home, ['restore', alice.user])
    expect(restored.folders.find((f) => f.source === folder)?.uploaded).toBe(1)
    const copy = (await listUids(server, alice, folder)).find((uid) => !before.includes(uid))!
    expect(copy).toBeDefined()

    await cli(account.home, ['utils', 'ignore-history', alice.user])
    await cli(account.home, ['backup', '-a', alice.user])

    // Every message the server holds is in the backup for real, the restored one as its original.
    const held = new Set((await backupContent(account.root, folder)).keys())
    expect([...contents].filter((sha) => !held.has(sha)), 'messages whose only trace is a placeholder').toEqual([])
    const meta = JSON.parse(await readFile(folderFiles(account.root, folder).imap, 'utf8')) as Meta
    expect(meta.messages.map((m) => m.uid).sort((a, b) => a - b)).toEqual([...before.filter((uid) => uid !== before[1]), before[1]!, copy].sort((a, b) => a - b))
    expect(meta.mailkeep_restored).toEqual([[copy, before[1]]])

    // A second run changes nothing: the original is not removed later either.
    await cli(account.home, ['backup', '-a', alice.user])
    expect(new Set((await backupContent(account.root, folder)).keys())).toEqual(held)
  })
})
