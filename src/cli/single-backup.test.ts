import {describe, expect, it} from 'vitest'
import {parseConfig} from '../config/index.js'
import {ConfigError} from '../shared/errors.js'
import {passwordsInArgv, rewriteConfigMessage} from './commands/single/backup.js'

describe('single backup: passwords on the command line', () => {
  it('finds every form of -p/--password', () => {
    expect(passwordsInArgv(['-e', 'a@b', '-p', 's3cret', '-s', 'h'])).toEqual(['s3cret'])
    expect(passwordsInArgv(['--password', 'one', '--password=two', '-pthree', '-p=four'])).toEqual(['one', 'two', 'three', 'four'])
    expect(passwordsInArgv(['-P', '/path', '-w', 'VAR'])).toEqual([])
    expect(passwordsInArgv(['-F', 'x', '--', '-p', 'not-a-flag'])).toEqual([])
  })

  it('takes a value that looks like a flag as the password', () => {
    expect(passwordsInArgv(['-p', '-tricky-', '-e', 'a@b'])).toEqual(['-tricky-'])
  })
})

describe('single backup: config messages in terms of flags', () => {
  function messageFor(account: Record<string, unknown>): string {
    try {
      parseConfig({accounts: [{username: 'me@example.com', password: 'x', ...account}]}, '<command line>')
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return rewriteConfigMessage((error as ConfigError).message)
    }
    throw new Error('parseConfig accepted it')
  }

  it('names the flag instead of the file and key', () => {
    expect(messageFor({connection_options: '{port: 1'})).toBe(
      '--connection-options: is a string but not valid JSON; write it as a JSON object, e.g. {"port": 993, "ssl": {"verify_mode": 0}}',
    )
    expect(messageFor({connection_options: '{"port": "x"}'})).toMatch(/^--connection-options "port": /)
    expect(messageFor({password: undefined, password_env: '1BAD'})).toMatch(/^--password-environment-variable: must be the name of an environment variable/)
  })

  it('leaves other text alone', () => {
    expect(rewriteConfigMessage('The password file \'/x\' (password_file of account \'a\') was not found')).toBe("The password file '/x' (password_file of account 'a') was not found")
  })
})
