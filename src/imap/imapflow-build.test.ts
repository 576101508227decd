// The tests run imapflow as the bundle ships it (vitest.config.ts, scripts/imapflow-stubs.mjs): its
// imports that mailkeep never reaches are stubs that throw, here as in the build. If imapflow
// reached one on a path mailkeep uses, the suite would fail before a user does.
import {describe, expect, it} from 'vitest'
import {IMAPFLOW_STUBS} from '../../scripts/imapflow-stubs.mjs'

describe('imapflow as the bundle ships it', () => {
  it('loads with its unused modules stubbed, and a stub says so when it is reached', async () => {
    const tools = (await import('imapflow/lib/tools.js')) as unknown as {getDecoder(charset: string): unknown}
    expect(() => tools.getDecoder('iso-8859-1')).toThrow(/left out of this build/)
    expect(Object.keys(IMAPFLOW_STUBS)).toContain('iconv-lite')
  })

  it('gives the rest of the suite the real modules: only imapflow\'s imports are stubbed', async () => {
    const {pino} = await import('pino')
    expect(typeof pino).toBe('function')
  })
})
