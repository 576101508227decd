import {describe, expect, it} from 'vitest'
import {DamagedError, InternalError, LocalIoError, LockedError, RemoteError, TransientImapError, UnsupportedFormatError} from '../../shared/errors.js'
import {ExitCode} from '../../shared/exit-codes.js'
import {registerSecret} from '../../shared/secrets.js'
import {errorSummary, FailureLog, folderExitCode} from './report.js'

describe('exit codes', () => {
  it('a failed folder is INCOMPLETE unless its error is more specific', () => {
    expect(folderExitCode(new TransientImapError('x'))).toBe(ExitCode.INCOMPLETE)
    expect(folderExitCode(new RemoteError('x'))).toBe(ExitCode.INCOMPLETE)
    expect(folderExitCode(new DamagedError('x'))).toBe(ExitCode.DAMAGED)
    expect(folderExitCode(new LockedError('/l', 1))).toBe(ExitCode.LOCKED)
    expect(folderExitCode(new LocalIoError('x'))).toBe(ExitCode.LOCAL_IO)
    expect(folderExitCode(new UnsupportedFormatError('x'))).toBe(ExitCode.UNSUPPORTED_FORMAT)
    expect(folderExitCode(new InternalError('x'))).toBe(ExitCode.INTERNAL)
    expect(folderExitCode(new Error('x'))).toBe(ExitCode.INTERNAL)
  })

  it('the run keeps the first failure', () => {
    const log = new FailureLog()
    expect(log.exitCode).toBe(ExitCode.OK)
    log.record(ExitCode.OK)
    log.record(ExitCode.CONNECTION)
    log.record(ExitCode.INCOMPLETE)
    expect(log.exitCode).toBe(ExitCode.CONNECTION)
  })

  it('summaries carry name, message, hint and code, and never a secret', () => {
    registerSecret('hunter2-secret')
    const summary = errorSummary(new DamagedError('bad file near hunter2-secret', {hint: 'run repair'}))
    expect(summary).toEqual({name: 'DamagedError', message: 'bad file near [REDACTED]', hint: 'run repair', exitCode: ExitCode.DAMAGED})
  })
})
