// The baseline of bench/backup.ts: the least a Node program can do to download a folder with
// imapflow. Plain JavaScript run by plain `node` (no TypeScript loader), so that its start-up is
// what any imapflow program pays. It logs in, opens the folder read-only and iterates one
// `UID FETCH 1:* (UID FLAGS BODY.PEEK[])`, doing nothing with the messages.
//
//   node bench/lib/bare-imapflow.mjs <host> <port> <user> <password> <folder> [--login-only]
//
// Prints `{"messages": n, "bytes": b}` on stdout. `--login-only` logs in and out (start-up cost).
import {ImapFlow} from 'imapflow'

const [host, port, user, pass, folder] = process.argv.slice(2)
if (folder === undefined) {
  process.stderr.write('usage: bare-imapflow.mjs <host> <port> <user> <password> <folder>\n')
  process.exit(2)
}

const client = new ImapFlow({host, port: Number(port), secure: false, auth: {user, pass}, logger: false, disableAutoIdle: true})
await client.connect()
if (process.argv.includes('--login-only')) {
  await client.logout()
  process.stdout.write('{"messages": 0, "bytes": 0}\n')
  process.exit(0)
}
await client.mailboxOpen(folder, {readOnly: true})
let messages = 0
let bytes = 0
for await (const message of client.fetch('1:*', {uid: true, flags: true, source: true}, {uid: true})) {
  messages++
  bytes += message.source?.length ?? 0
}
await client.logout()
process.stdout.write(`${JSON.stringify({messages, bytes})}\n`)
