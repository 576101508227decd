// A separate process for src/store/lock.test.ts that takes the account lock the way
// src/store/lock.ts does (same file, same flock flags, same `<pid>\n` contents), except that a
// reader here also creates a missing lock file (lock.ts's readers create nothing), so that a test
// can hold a shared lock before any writer ran. It is plain JavaScript because child processes,
// unlike vitest, cannot run TypeScript without a build.
//
//   node lock-child.fixture.mjs <lock path> exclusive|shared
//
// Prints `locked` or `refused <code>` on one line. A locked child holds the lock until it reads
// `release` on stdin (then prints `released` and exits), until stdin closes, or until killed.
import {closeSync, constants, ftruncateSync, openSync, writeSync} from 'node:fs'
import {createRequire} from 'node:module'

const fsExt = createRequire(import.meta.url)('fs-ext')
const {LOCK_EX, LOCK_SH, LOCK_NB, LOCK_UN} = fsExt.constants

const [path, mode] = process.argv.slice(2)
if (path === undefined || (mode !== 'exclusive' && mode !== 'shared')) {
  process.stderr.write('usage: lock-child.fixture.mjs <lock path> exclusive|shared\n')
  process.exit(2)
}

const access = mode === 'exclusive' ? constants.O_RDWR : constants.O_RDONLY
const fd = openSync(path, access | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)

fsExt.flock(fd, (mode === 'exclusive' ? LOCK_EX : LOCK_SH) | LOCK_NB, (error) => {
  if (error) {
    process.stdout.write(`refused ${error.code}\n`, () => process.exit(3))
    return
  }
  if (mode === 'exclusive') {
    ftruncateSync(fd, 0)
    writeSync(fd, `${process.pid}\n`, 0)
  }
  process.stdout.write('locked\n')
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (text) => {
    if (!text.includes('release')) return
    fsExt.flock(fd, LOCK_UN, () => {
      closeSync(fd)
      process.stdout.write('released\n', () => process.exit(0))
    })
  })
  process.stdin.on('end', () => process.exit(0))
})
