/**
 * A column of numbers: 4 bytes each while every value is a whole number below 2^32, 8 bytes (a
 * double) from the first value that is not. -0 is stored as 0, which reads and prints the same.
 */
export class NumberColumn {
  private values: Uint32Array | Float64Array
  private wide = false

  constructor(capacity: number) {
    this.values = new Uint32Array(capacity)
  }

  get(row: number): number {
    return this.values[row]!
  }

  set(row: number, value: number): void {
    if (!this.wide && value >>> 0 !== value) this.widen()
    this.values[row] = value
  }

  resize(capacity: number, length: number): void {
    const next = this.wide ? new Float64Array(capacity) : new Uint32Array(capacity)
    next.set(this.values.subarray(0, length))
    this.values = next
  }

  private widen(): void {
    const wide = new Float64Array(this.values.length)
    wide.set(this.values)
    this.values = wide
    this.wide = true
  }
}
