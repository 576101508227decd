// The floor of bench/backup.ts: the least any client can do to download a folder. Plain
// JavaScript on a bare socket, no IMAP library: LOGIN, EXAMINE, one
// `UID FETCH 1:* (UID FLAGS BODY.PEEK[])`, and it only counts the bytes until the tagged answer;
// nothing is parsed beyond finding that line, nothing is kept.
//
//   node bench/lib/raw-wire.mjs <host> <port> <user> <password> <folder>
//
// Prints `{"bytes": b}` on stdout (bytes of the FETCH answer).
import {connect} from 'node:net'

const [host, port, user, pass, folder] = process.argv.slice(2)
if (folder === undefined) {
  process.stderr.write('usage: raw-wire.mjs <host> <port> <user> <password> <folder>\n')
  process.exit(2)
}

const quote = (s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
const socket = connect({host, port: Number(port)})
let waiter

/**
 * Resolves with the bytes received up to and including the tagged line of `tag`. It looks for
 * the tag at line starts in each chunk, and across two chunks in their last and first bytes: a
 * copy of at most 256 bytes per chunk.
 */
function until(tag) {
  return new Promise((resolve, reject) => {
    let total = 0
    // Each command's answer starts at a line start, as if after a CRLF.
    let tail = Buffer.from('\r\n')
    const marker = Buffer.from(`\r\n${tag} `)
    waiter = (chunk) => {
      total += chunk.length
      const edge = Buffer.concat([tail, chunk.subarray(0, 128)])
      let text
      const atEdge = edge.indexOf(marker)
      const inChunk = atEdge >= 0 ? -1 : chunk.indexOf(marker)
      if (atEdge >= 0) text = Buffer.concat([edge.subarray(atEdge + 2), chunk.subarray(128)])
      else if (inChunk >= 0) text = chunk.subarray(inChunk + 2)
      else {
        tail = Buffer.from(chunk.subarray(-128))
        return
      }
      const end = text.indexOf('\r\n')
      if (end < 0) return // the rest of the line comes next; our lines are short, never seen
      waiter = undefined
      const line = text.toString('latin1', 0, end)
      if (!line.startsWith(`${tag} OK`)) reject(new Error(line))
      else resolve(total)
    }
  })
}

socket.on('data', (chunk) => waiter?.(chunk))
socket.on('error', (error) => {
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
})
await new Promise((resolve) => socket.once('connect', resolve))
await new Promise((resolve) => socket.once('data', resolve)) // the greeting
socket.write(`rw1 LOGIN ${quote(user)} ${quote(pass)}\r\n`)
await until('rw1')
socket.write(`rw2 EXAMINE ${quote(folder)}\r\n`)
await until('rw2')
socket.write('rw3 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n')
const bytes = await until('rw3')
socket.write('rw4 LOGOUT\r\n')
socket.end()
process.stdout.write(`${JSON.stringify({bytes})}\n`)
