import {describe, expect, it} from 'vitest'
import {closestCommand} from './command-not-found.js'

const IDS = ['backup', 'restore', 'setup', 'stats', 'local:list', 'local:show', 'local:search', 'local:check', 'local:folders', 'remote:folders', 'utils:export']

describe('closestCommand', () => {
  it('finds a swapped letter and keeps the arguments typed after it', () => {
    expect(closestCommand('local:lsit:me@example.com:INBOX', IDS)).toEqual({id: 'local:list', rest: ['me@example.com', 'INBOX']})
  })

  it('finds a mistyped top-level command', () => {
    expect(closestCommand('bakup', IDS)).toEqual({id: 'backup', rest: []})
    expect(closestCommand('restroe:me@example.com', IDS)).toEqual({id: 'restore', rest: ['me@example.com']})
  })

  it('a command of the wrong topic: the topic is kept where it fits better', () => {
    expect(closestCommand('local:folder:me', IDS)).toEqual({id: 'local:folders', rest: ['me']})
  })

  it('suggests nothing for a word that resembles no command', () => {
    expect(closestCommand('xyzzy', IDS)).toBeUndefined()
  })
})
