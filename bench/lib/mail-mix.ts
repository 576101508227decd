/**
 * A deterministic "realistic" mailbox for bench/backup.ts: `count` messages whose sizes span
 * 1 kB to 5 MB. Mail is mostly small text with a tail of attachments, so sizes come from two
 * log-uniform classes (stratified, then shuffled with a fixed seed, so the total is the same on
 * every run):
 *
 *   - 92 %: text messages, 1 kB – 50 kB (headers and wrapped text, CRLF);
 *   - 8 %: messages with a base64 attachment, 50 kB – 5 MB (`bigMessage` of test/fixtures).
 *
 * For 2,000 messages that is about 195 MB on the wire.
 */
import {bigMessage} from '../../test/fixtures/corpus.js'

const TEXT_SHARE = 0.92

export interface MixPlan {
  sizes: number[]
  totalBytes: number
}

export function mixSizes(count: number): MixPlan {
  const text = Math.round(count * TEXT_SHARE)
  const attached = count - text
  const sizes: number[] = []
  const logUniform = (n: number, lo: number, hi: number) => {
    for (let i = 0; i < n; i++) sizes.push(Math.round(lo * (hi / lo) ** ((i + 0.5) / n)))
  }
  logUniform(text, 1_000, 50_000)
  logUniform(attached, 50_000, 5_000_000)
  // Fisher–Yates with a small fixed-seed PRNG (mulberry32): big and small messages interleave.
  let seed = 0x6d61696c
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!]
  }
  return {sizes, totalBytes: sizes.reduce((a, b) => a + b, 0)}
}

const WORDS = 'the backup of this folder is complete and every message was saved with its flags and date so that a restore gives it back byte for byte'.split(' ')

/** The message of `index` with exactly `size` bytes. */
export function mixMessage(index: number, size: number): Buffer {
  if (size >= 50_000) return bigMessage(size, {seed: index})
  const head =
    `From: Sender ${index} <sender${index % 97}@example.org>\r\nTo: alice@example.test\r\n` +
    `Subject: Report ${index}\r\nDate: Mon, 29 Apr 2024 10:00:00 +0200\r\n` +
    `Message-ID: <mix-${index}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`
  const lines: string[] = []
  let length = Buffer.byteLength(head)
  let w = index
  while (length < size) {
    let line = ''
    while (line.length < 70) line += `${WORDS[w++ % WORDS.length]} `
    line = `${line.trimEnd()}\r\n`
    lines.push(line)
    length += line.length
  }
  const body = lines.join('')
  return Buffer.from((head + body).slice(0, size))
}
