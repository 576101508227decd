// Issue 11 item 11: `local repair` of a folder whose `.imap` was cut in half must give every
// message it matches on the server the server's flags (also where the damaged file still had
// older ones), and say per message where the flags of a message it could not match come from.
// Through the real CLI, against each real server of the harness.
import {readFile, stat, truncate} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {RepairReport} from '../../src/engine/repair/repair.js'
import {toStoredFlags} from '../../src/store/flags.js'
import {appendMessages, createFolder, expunge, fetchMessages, folderName, seedMessage, setFlags} from '../support/mail-seed.js'
import {serverKinds, startServer, type ServerKind, type TestServer} from '../support/servers.js'
import {testTempDir} from '../support/temp-dir.js'
import {accountEntry, mailkeep, show, stored, writeConfig} from './helpers.js'

const FLAGS = [['\\Seen'], [], ['\\Seen', '\\Flagged'], ['\\Answered'], ['$Label1'], ['\\Seen', '$Label2']]

describe.each(serverKinds())('%s', (kind: ServerKind) => {
  let instance: TestServer

  beforeAll(async () => {
    instance = await startServer(kind)
  })
  afterAll(async () => {
    await instance?.stop()
  })

  it(".imap cut in half: matched messages get the server's flags; the others say where theirs come from", async () => {
    const user = instance.users[0]!
    const folder = folderName(instance, 'Repaired')
    await createFolder(instance, user, folder)
    const uids = await appendMessages(
      instance,
      user,
      folder,
      Array.from({length: 12}, (_, i) => ({...seedMessage(i), flags: FLAGS[i % FLAGS.length]!})),
    )
    const home = await testTempDir('mailkeep-repair-flags-')
    const root = join(home, 'backup')
    await writeConfig(home, [accountEntry(instance, user, root, {folders: [folder]})])
    const first = await mailkeep(home, ['backup'])
    expect(first.code, show(first)).toBe(0)

    // Cut the .imap in half; which entries the damaged half still names decides what the
    // repair can salvage.
    const imap = join(root, `${folder}.imap`)
    await truncate(imap, Math.floor((await stat(imap)).size / 2))
    const inHalf = new Set([...(await readFile(imap, 'utf8')).matchAll(/\{"uid":(\d+),"offset":\d+,"length":\d+,"flags":\[[^\]]*\]\}/g)].map((m) => Number(m[1])))
    const salvaged = uids.filter((u) => inHalf.has(u))
    const lost = uids.filter((u) => !inHalf.has(u))
    expect(salvaged.length).toBeGreaterThan(2)
    expect(lost.length).toBeGreaterThan(2)

    // On the server meanwhile: flags changed on a message the damaged half still names (its
    // salvaged flags are stale) and on one it does not; one message of each kind expunged.
    await setFlags(instance, user, folder, [salvaged[1]!, lost[0]!], ['\\Flagged', '$Changed'])
    const goneSalvaged = salvaged[2]!
    const goneLost = lost[lost.length - 1]!
    await expunge(instance, user, folder, [goneSalvaged, goneLost])

    // The text says it per message (a dry run: the same plan, nothing written).
    const dry = await mailkeep(home, ['local', 'repair', user.user, folder, '--dry-run'])
    expect(dry.code, show(dry)).toBe(0)
    expect(dry.stdout).toMatch(new RegExp(`kept UID ${goneSalvaged} .*: not on the server any more; flags from the damaged metadata, not verified \\(`))
    expect(dry.stdout).toMatch(/kept UID \d+ .*: not on the server any more; flags unknown, stored without flags/)

    const r = await mailkeep(home, ['local', 'repair', user.user, folder, '--json'])
    expect(r.code, show(r)).toBe(0)
    const report = JSON.parse(r.stdout) as RepairReport
    const f = report.folders[0]!
    expect(f).toMatchObject({action: 'rebuilt', uids: 'verified', messages: 12, matched: 10})
    expect(f.kept).toHaveLength(2)
    const keptSalvaged = f.kept.find((k) => k.uid === goneSalvaged)!
    expect(keptSalvaged).toMatchObject({reason: 'not-on-server', flagsFrom: 'damaged-metadata'})
    expect([...keptSalvaged.flags].sort()).toEqual([...toStoredFlags(FLAGS[uids.indexOf(goneSalvaged) % FLAGS.length]!)].sort())
    const keptLost = f.kept.find((k) => k.uid !== goneSalvaged)!
    expect(keptLost).toMatchObject({reason: 'not-on-server', flagsFrom: 'none', flags: []})

    // Every matched message has exactly the server's flags now.
    const onServer = await fetchMessages(instance, user, folder)
    const local = new Map((await stored(root, folder)).map((m) => [m.uid, m.flags]))
    expect(onServer).toHaveLength(10)
    for (const m of onServer) expect(local.get(m.uid), `flags of UID ${m.uid}`).toEqual([...toStoredFlags(m.flags)].sort())
    expect(local.get(salvaged[1]!)).toEqual(['$Changed', 'Flagged'])
    expect(local.get(lost[0]!)).toEqual(['$Changed', 'Flagged'])
  })
})
