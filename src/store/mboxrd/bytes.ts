/** Byte constants shared by the codec. Message bytes stay Buffers throughout (never strings). */
export const LF = 0x0a
export const CR = 0x0d
export const GT = 0x3e

export const CR_BUFFER = Buffer.from([CR])
export const GT_BUFFER = Buffer.from([GT])

/** "From " with its space: the start of an mbox separator line (RFC 4155 §2). */
export const FROM_SPACE_BYTES: readonly number[] = [0x46, 0x72, 0x6f, 0x6d, 0x20]

export function startsWithFromSpace(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 5 &&
    bytes[0] === 0x46 &&
    bytes[1] === 0x72 &&
    bytes[2] === 0x6f &&
    bytes[3] === 0x6d &&
    bytes[4] === 0x20
  )
}
