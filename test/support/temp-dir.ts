/**
 * Private temporary directories: one per test (or per server), mode 0700 like the account roots
 * mailkeep creates, under the OS temp dir so parallel test files never share one.
 *
 * Set MAILKEEP_KEEP_TEMP=1 to keep them for a post-mortem; each kept path is printed.
 */
import {chmod, mkdtemp, realpath, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, sep} from 'node:path'

const KEEP = process.env.MAILKEEP_KEEP_TEMP === '1'

/** Creates a fresh directory named `<tmpdir>/<prefix>XXXXXX` with mode 0700. */
export async function makeTempDir(prefix = 'mailkeep-test-'): Promise<string> {
  // realpath: /tmp may be a symlink (macOS); paths compared in tests must be canonical.
  const dir = await mkdtemp(join(await realpath(tmpdir()), prefix))
  // mkdtemp already uses 0700, but the umask must not be trusted to leave it so.
  await chmod(dir, 0o700)
  return dir
}

/**
 * Removes a directory made by `makeTempDir`. Refuses anything outside the OS temp dir, so a bug
 * in a test can never delete real data.
 */
export async function removeTempDir(dir: string): Promise<void> {
  const root = (await realpath(tmpdir())) + sep
  if (!dir.startsWith(root) || dir.length <= root.length) throw new Error(`refusing to remove '${dir}': not inside ${root}`)
  if (KEEP) {
    console.log(`MAILKEEP_KEEP_TEMP: kept ${dir}`)
    return
  }
  await rm(dir, {recursive: true, force: true, maxRetries: 3})
}

/** Runs `fn` with a fresh temp dir and removes it afterwards, also when `fn` throws. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const dir = await makeTempDir(prefix)
  try {
    return await fn(dir)
  } finally {
    await removeTempDir(dir)
  }
}

/**
 * Inside a running vitest test: a temp dir that is removed when the test finishes (pass or
 * fail). vitest is imported lazily so that benchmarks can use the rest of this module.
 */
export async function testTempDir(prefix?: string): Promise<string> {
  const {onTestFinished} = await import('vitest')
  const dir = await makeTempDir(prefix)
  onTestFinished(() => removeTempDir(dir))
  return dir
}
