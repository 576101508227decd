/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself,
 * `&` is written `&-`, and every other run of UTF-16 code units is written `&` + modified
 * BASE64 (`,` instead of `/`, no padding) + `-`.
 *
 * Our own codec rather than imapflow's (iconv-lite): it keeps lone surrogates as they are (the
 * store maps them to `%d800;`-style escapes, docs/design.md "Folder names") instead of turning
 * them into U+FFFD, and it never throws: a malformed `&…-` run is kept verbatim, so the name
 * still names the folder (the session also remembers the exact wire form of every listed name).
 */

const BASE64 = /^[A-Za-z0-9+,]*$/

export function decodeMailboxName(wire: string): string {
  let out = ''
  let i = 0
  while (i < wire.length) {
    const amp = wire.indexOf('&', i)
    if (amp === -1) {
      out += wire.slice(i)
      break
    }
    out += wire.slice(i, amp)
    const dash = wire.indexOf('-', amp + 1)
    if (dash === -1) {
      // An unterminated shift: not modified UTF-7, keep it as it came.
      out += wire.slice(amp)
      break
    }
    const run = wire.slice(amp + 1, dash)
    if (run === '') out += '&'
    else out += decodeRun(run) ?? wire.slice(amp, dash + 1)
    i = dash + 1
  }
  return out
}

/** One `&…-` run as UTF-16 code units, or undefined when it is not valid modified BASE64. */
function decodeRun(run: string): string | undefined {
  if (!BASE64.test(run) || run.length % 4 === 1) return undefined
  const bytes = Buffer.from(run.replace(/,/g, '/'), 'base64')
  if (bytes.length % 2 !== 0 || bytes.length === 0) return undefined
  let text = ''
  for (let k = 0; k < bytes.length; k += 2) text += String.fromCharCode((bytes[k]! << 8) | bytes[k + 1]!)
  return text
}

export function encodeMailboxName(name: string): string {
  let out = ''
  let run: number[] = []
  const flush = (): void => {
    if (run.length === 0) return
    const bytes = Buffer.alloc(run.length * 2)
    run.forEach((unit, k) => bytes.writeUInt16BE(unit, k * 2))
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-'
    run = []
  }
  // Code units, not code points: a lone surrogate is encoded as itself.
  for (let k = 0; k < name.length; k++) {
    const unit = name.charCodeAt(k)
    if (unit >= 0x20 && unit <= 0x7e) {
      flush()
      out += unit === 0x26 ? '&-' : name[k]
    } else {
      run.push(unit)
    }
  }
  flush()
  return out
}
