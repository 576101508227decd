import {describe, expect, it} from 'vitest'
import {readFileSync} from 'node:fs'
import {ACCOUNT_EXTENSION_KEYS, ACCOUNT_KEYS, TOP_LEVEL_EXTENSION_KEYS, TOP_LEVEL_KEYS} from './keys.js'

describe('docs/config.md', () => {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')

  it('documents every key of the config file', () => {
    const keys = [...TOP_LEVEL_KEYS, ...TOP_LEVEL_EXTENSION_KEYS, ...ACCOUNT_KEYS, ...ACCOUNT_EXTENSION_KEYS]
    const connection = ['port', 'ssl', 'verify_mode', 'ca_file', 'min_version', 'open_timeout', 'idle_response_timeout', 'starttls']
    const missing = [...keys, ...connection].filter((k) => !doc.includes(`| \`${k}\``))
    expect(missing).toEqual([])
  })
})
