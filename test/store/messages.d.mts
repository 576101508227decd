export function isLarge(uid: number): boolean
export function testMessage(uid: number): Buffer
export function inChunks(bytes: Buffer, size: number): AsyncIterable<Buffer>
