// A child process that keeps writing one folder through the real store (dist/), doing every
// kind of change a backup makes, so that readers can be checked against it
// (test/store/readers.test.ts): transactions of a few messages with savepoints, commits, a
// rollback now and then (its savepoints stay), mirror-mode removals (a rewrite of the folder by
// rename) and UIDVALIDITY changes (the folder moved aside, a new one begun).
//
// argv: root rounds
// stdout lines: "ready", "round <n>", "done"
import {AccountStore} from '../../dist/store/account-store.js'
import {silentLogger} from '../../dist/shared/logger.js'
import {inChunks, isLarge, testMessage} from './messages.mjs'

const [root, roundsArg] = process.argv.slice(2)
const rounds = Number(roundsArg)
const say = (line) => process.stdout.write(`${line}\n`)

const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
const folder = await store.folder('INBOX')
let uidValidity = 100
if (!folder.exists) await folder.initialize(uidValidity)
let next = 1
say('ready')
for (let round = 1; round <= rounds; round++) {
  const tx = await folder.begin({strategy: 'delay_metadata', savepointMessages: 3, savepointSeconds: 3600, savepointBytes: 1 << 30, delayAllMaxBytes: 1 << 20})
  const count = 4 + (round % 5)
  for (let i = 0; i < count; i++) {
    const uid = next++
    const info = {uid, flags: uid % 2 === 0 ? ['\\Seen'] : [], internalDate: new Date(1_700_000_000_000 + uid * 1000)}
    const bytes = testMessage(uid)
    if (isLarge(uid)) await tx.appendStream(info, inChunks(bytes, 65536))
    else await tx.append(info, bytes)
  }
  if (round % 7 === 0) await tx.rollback()
  else await tx.commit()
  if (round % 5 === 0 && folder.messages.length > 4) {
    // Mirror mode: the server deleted every third message.
    const gone = [...folder.messages].filter((m, i) => i % 3 === 0).map((m) => m.uid)
    await folder.removeMessages(gone)
  }
  if (round % 11 === 0) {
    await folder.renameAway()
    await folder.initialize(++uidValidity)
  }
  say(`round ${round}`)
  // A backup is paced by the network; this leaves the readers time to read between changes.
  await new Promise((resolve) => setTimeout(resolve, 10))
}
await folder.close()
await store.close()
say('done')
