// Deterministic test messages, shared by the crash-test children (plain JS) and the tests.
// Every tenth message is large (streamed in chunks) so that kills land in the middle of one.

export function isLarge(uid) {
  return uid % 10 === 7
}

export function testMessage(uid) {
  const lines = [`From: sender${uid}@example.test`, `Date: Tue, 5 Mar 2024 08:07:${String(uid % 60).padStart(2, '0')} +0100`, `Subject: message ${uid}`, '']
  lines.push(`Body of ${uid}`, 'From the start of a line', '>From already quoted', 'From: a header-like line')
  let text = lines.join(uid % 4 === 0 ? '\n' : '\r\n')
  if (isLarge(uid)) text += '\r\n' + `${uid} `.repeat(200_000)
  if (uid % 3 !== 0) text += '\r\n'
  return Buffer.from(text)
}

export async function* inChunks(bytes, size) {
  for (let i = 0; i < bytes.length; i += size) {
    yield bytes.subarray(i, i + size)
    // Give the event loop (and the kill) a chance between chunks, as a network stream would.
    await new Promise((resolve) => setImmediate(resolve))
  }
}
