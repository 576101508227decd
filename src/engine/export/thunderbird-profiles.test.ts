import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {MailkeepError} from '../../shared/errors.js'
import {findThunderbirdProfile, parseProfilesIni, thunderbirdDataDir, type FindProfileOptions} from './thunderbird-profiles.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailkeep-tb-profiles-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** The error findThunderbirdProfile throws (the test fails if it returns). */
async function failure(options: FindProfileOptions): Promise<MailkeepError> {
  const error = await findThunderbirdProfile(options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MailkeepError)
  return error as MailkeepError
}

const ini = async (text: string): Promise<void> => writeFile(join(dir, 'profiles.ini'), text)

describe('parseProfilesIni', () => {
  it('reads sections and keys, with CRLF, comments and = inside values', () => {
    const sections = parseProfilesIni('\uFEFF; comment\r\n[Profile0]\r\nName=a=b\r\nPath=x\r\n\r\n# more\r\n[General]\r\nVersion=2\r\n')
    expect(sections.map((s) => [s.title, Object.fromEntries(s.entries)])).toEqual([
      ['Profile0', {Name: 'a=b', Path: 'x'}],
      ['General', {Version: '2'}],
    ])
  })
})

describe('findThunderbirdProfile', () => {
  const PROFILES = '[Profile1]\nName=work\nIsRelative=1\nPath=b.work\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=a.default-release\nDefault=1\n\n[Profile2]\nName=abs\nIsRelative=0\nPath=/srv/tb/abs\n'

  it('takes the default profile of the only install', async () => {
    await ini(`[InstallF00]\nDefault=b.work\nLocked=1\n\n${PROFILES}`)
    expect(await findThunderbirdProfile({dataDir: dir})).toEqual({section: 'Profile1', name: 'work', path: join(dir, 'b.work')})
  })

  it('finds a profile by name, relative or absolute', async () => {
    await ini(`[InstallF00]\nDefault=b.work\n\n${PROFILES}`)
    expect((await findThunderbirdProfile({dataDir: dir, name: 'default-release'})).path).toBe(join(dir, 'a.default-release'))
    expect((await findThunderbirdProfile({dataDir: dir, name: 'abs'})).path).toBe('/srv/tb/abs')
    await expect(findThunderbirdProfile({dataDir: dir, name: 'nope'})).rejects.toThrow("Thunderbird profile 'nope' not found")
  })

  it('refuses to choose between several installs', async () => {
    await ini(`[InstallF00]\nDefault=b.work\n\n[InstallBA4]\nDefault=a.default-release\n\n${PROFILES}`)
    const error = await failure({dataDir: dir})
    expect(error.message).toBe('Thunderbird has multiple installs, so no default profile exists')
    expect(error.hint).toContain("'work', 'default-release', 'abs'")
  })

  it('without Install sections (Thunderbird before 68) uses Default=1, or the only profile', async () => {
    await ini(PROFILES)
    expect((await findThunderbirdProfile({dataDir: dir})).name).toBe('default-release')
    await ini('[Profile0]\nName=only\nIsRelative=1\nPath=o\n')
    expect((await findThunderbirdProfile({dataDir: dir})).name).toBe('only')
    await ini('[Profile0]\nName=one\nPath=o\n[Profile1]\nName=two\nPath=t\n')
    await expect(findThunderbirdProfile({dataDir: dir})).rejects.toThrow('Default Thunderbird profile not found')
  })

  it('reports an install whose default is not a profile, and a missing profiles.ini', async () => {
    await ini(`[InstallF00]\nDefault=gone\n\n${PROFILES}`)
    await expect(findThunderbirdProfile({dataDir: dir})).rejects.toThrow('Default Thunderbird profile not found')
    const missing = join(dir, 'nothing')
    const error = await failure({dataDir: missing})
    expect(error.message).toBe('Default Thunderbird profile not found')
    expect(error.hint).toContain(join(missing, 'profiles.ini'))
  })
})

describe('thunderbirdDataDir', () => {
  it('is per platform', () => {
    expect(thunderbirdDataDir('linux')).toMatch(/\.thunderbird$/)
    expect(thunderbirdDataDir('darwin')).toMatch(/Library[/\\]Thunderbird$/)
    expect(thunderbirdDataDir('win32', {APPDATA: 'C:\\Users\\me\\AppData\\Roaming'})).toMatch(/Roaming[/\\]Thunderbird$/)
  })
})
