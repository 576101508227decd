/**
 * Header fields (RFC 5322 §2.2) read from a stored header block: shared by the mbox scan of
 * `local repair`, the server's header fetch and `local list` (which must not load the repair
 * code to list messages).
 */

/**
 * The first occurrence of each field of a header block, unfolded (RFC 5322 §2.2.3), names in
 * lower case, values as latin1 strings (every byte kept, so RFC 2047 and raw UTF-8 can be
 * decoded by the caller). A leading `From ` / `>From ` envelope line is skipped.
 */
export function parseHeaderFields(block: Buffer): Map<string, string> {
  const text = block.toString('latin1')
  const fields = new Map<string, string>()
  let name: string | undefined
  let value = ''
  const flush = (): void => {
    if (name !== undefined && !fields.has(name)) fields.set(name, value)
    name = undefined
  }
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') break
    if (line[0] === ' ' || line[0] === '\t') {
      if (name !== undefined) value += line
      continue
    }
    flush()
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const field = line.slice(0, colon).trimEnd()
    if (!/^[!-9;-~]+$/.test(field)) continue
    name = field.toLowerCase()
    value = line.slice(colon + 1)
  }
  flush()
  for (const [key, v] of fields) fields.set(key, v.trim())
  return fields
}

/** `<id@host>` from a Message-ID value (comments and whitespace around it dropped). */
export function normaliseMessageId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const angle = /<[^<>]*>/.exec(value)
  const id = (angle === null ? value : angle[0]).replace(/\s+/g, '')
  return id === '' || id === '<>' ? undefined : id
}

/** A Date value compared as text: whitespace runs collapsed. */
export function normaliseDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const text = value.replace(/\s+/g, ' ').trim()
  return text === '' ? undefined : text
}
