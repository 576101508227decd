import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'
import {AddressInUseError, freePort, isPortFree, retryOnAddressInUse, waitForPortFree} from './ports.js'

describe('ports', () => {
  it('finds a free port below the ephemeral range and sees when it is taken', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThanOrEqual(20_000)
    expect(port).toBeLessThan(32_768)
    expect(await isPortFree(port)).toBe(true)
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    expect(await isPortFree(port)).toBe(false)
    expect(await waitForPortFree(port, 100)).toBe(false)
    await new Promise((resolve) => server.close(resolve))
    expect(await waitForPortFree(port, 1000)).toBe(true)
  })

  it('retries with another port on EADDRINUSE only', async () => {
    const tried: number[] = []
    const port = await retryOnAddressInUse(async (p) => {
      tried.push(p)
      if (tried.length < 3) throw new AddressInUseError(p)
      return p
    })
    expect(tried).toHaveLength(3)
    expect(port).toBe(tried[2])
    await expect(retryOnAddressInUse(() => Promise.reject(new Error('other')))).rejects.toThrow('other')
    await expect(retryOnAddressInUse((p) => Promise.reject(new AddressInUseError(p)), 2)).rejects.toThrow(/no free port after 2 attempts/)
  })
})
