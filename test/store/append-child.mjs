// A child process that appends test messages to one folder through the real store (dist/),
// reporting on stdout each time a savepoint has committed. The parent kills it (SIGKILL) or
// interrupts it (SIGINT/SIGTERM) and then checks the folder.
//
// argv: root strategy firstUid count savepointMessages [commitEvery]
//   commitEvery > 0: commit (fold into .imap and the exactness file) and begin a new transaction
//   after every that many messages, so that kills land in folds too.
// stdout lines: "ready", "committed <uid>" (every UID up to it is durable), "done",
//               "rolled-back <count>" (after a signal: messages committed in the folder)
import {AccountStore} from '../../dist/store/account-store.js'
import {silentLogger} from '../../dist/shared/logger.js'
import {testMessage, isLarge, inChunks} from './messages.mjs'

const [root, strategy, firstArg, countArg, savepointArg, commitEveryArg] = process.argv.slice(2)
const first = Number(firstArg)
const count = Number(countArg)
const commitEvery = Number(commitEveryArg ?? 0)
let stop

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stop ??= signal
  })
}

const say = (line) => process.stdout.write(`${line}\n`)

const store = await AccountStore.open(root, {mode: 'write', logger: silentLogger})
const folder = await store.folder('INBOX')
if (!folder.exists) await folder.initialize(42)
const tuning = {strategy, savepointMessages: Number(savepointArg), savepointSeconds: 3600, savepointBytes: 1 << 30, delayAllMaxBytes: 1 << 20}
let tx = await folder.begin(tuning)
say('ready')
let savepoints = 0
for (let uid = first; uid < first + count; uid++) {
  if (stop !== undefined) {
    await tx.rollback()
    say(`rolled-back ${folder.messages.length}`)
    await store.close()
    process.exit(stop === 'SIGINT' ? 130 : 143)
  }
  const info = {uid, flags: uid % 2 === 0 ? ['\\Seen'] : [], internalDate: new Date(1_700_000_000_000 + uid * 1000)}
  const bytes = testMessage(uid)
  if (isLarge(uid)) await tx.appendStream(info, inChunks(bytes, 65536))
  else await tx.append(info, bytes)
  if (tx.stats.savepoints !== savepoints) {
    savepoints = tx.stats.savepoints
    // What the savepoints cover: with direct's group commit, the one that just ended may not
    // cover this message yet (it joins the next one), so the report is the folder's committed
    // table, not the UID just appended.
    const committed = folder.messages
    if (committed.length > 0) say(`committed ${committed.entryAt(committed.length - 1).uid}`)
  }
  if (commitEvery > 0 && (uid - first + 1) % commitEvery === 0 && uid < first + count - 1) {
    await tx.commit()
    say(`committed ${uid}`)
    tx = await folder.begin(tuning)
    savepoints = 0
  }
}
await tx.commit()
say(`committed ${first + count - 1}`)
await store.close()
say('done')
