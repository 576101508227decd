/**
 * Finding a Thunderbird profile (compat §4.8): the data directory holds `profiles.ini`, whose
 * `[InstallXXXX]` sections name each installation's default profile (`Default=<Path>`) and whose
 * `[ProfileN]` sections describe the profiles (`Name=`, `Path=`, `IsRelative=`, `Default=`).
 * Format: http://kb.mozillazine.org/Profiles.ini_file (an INI file; Thunderbird 68 and later add
 * the Install sections, one per installation directory).
 *
 * Choice, as imap-backup makes it:
 * - `--profile NAME`: the Profile section whose `Name` is NAME;
 * - otherwise the default profile of the only install; several installs are an error, because
 *   each has its own default and we cannot tell which one the user means.
 * Beyond imap-backup (which crashes there): a profiles.ini without Install sections (Thunderbird
 * before 68) uses the profile marked `Default=1`, or the only profile.
 */
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import {errnoCode, localIoError, MailkeepError} from '../../shared/errors.js'

export interface IniSection {
  /** The section title without brackets, e.g. `Profile0`, `Install4F96D1932A9F858E`. */
  title: string
  entries: Map<string, string>
}

export interface ThunderbirdProfile {
  /** The section title, e.g. `Profile0`. */
  section: string
  /** The profile's `Name=`, or the section title when it has none. */
  name: string
  /** Absolute path of the profile directory. */
  path: string
}

/**
 * Thunderbird's data directory: `~/.thunderbird` (Linux and other Unixes),
 * `~/Library/Thunderbird` (macOS), `%APPDATA%\Thunderbird` (Windows). `homedir()` follows $HOME
 * on Unix, which is what lets tests point it at a temporary directory.
 */
export function thunderbirdDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Thunderbird')
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), 'Thunderbird')
  return join(homedir(), '.thunderbird')
}

/**
 * Parses profiles.ini. Lines are `[Title]` or `Key=Value` (split at the first `=`); blank lines
 * and `;`/`#` comments are skipped; CRLF is accepted (Windows). Keys before the first section
 * are ignored.
 */
export function parseProfilesIni(text: string): IniSection[] {
  const sections: IniSection[] = []
  let current: IniSection | undefined
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue
    const title = /^\[([^\]]*)\]$/.exec(line)
    if (title !== null) {
      current = {title: title[1]!.trim(), entries: new Map()}
      sections.push(current)
      continue
    }
    const eq = line.indexOf('=')
    if (current === undefined || eq <= 0) continue
    current.entries.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  return sections
}

export interface FindProfileOptions {
  /** `--profile NAME`; undefined: the default profile. */
  name?: string
  /** Default: thunderbirdDataDir(). */
  dataDir?: string
}

/**
 * The profile to export to.
 *
 * @throws MailkeepError `Thunderbird profile '<p>' not found`, `Default Thunderbird profile not
 *   found` (also when there is no profiles.ini at all: Thunderbird is not installed or was
 *   never started), or that there are several installs and no `--profile` was given.
 */
export async function findThunderbirdProfile(options: FindProfileOptions = {}): Promise<ThunderbirdProfile> {
  const dataDir = options.dataDir ?? thunderbirdDataDir()
  const iniPath = join(dataDir, 'profiles.ini')
  const notFound = (hint: string): MailkeepError =>
    new MailkeepError(options.name === undefined ? 'Default Thunderbird profile not found' : `Thunderbird profile '${options.name}' not found`, {hint})

  let text: string
  try {
    text = await readFile(iniPath, 'utf8')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      throw notFound(`there is no '${iniPath}': is Thunderbird installed, and has it been started once?`)
    }
    throw localIoError(error, 'read', iniPath)
  }
  const sections = parseProfilesIni(text)
  const profiles = sections.filter((s) => s.title.startsWith('Profile')).map((s) => toProfile(s, dataDir))
  const names = profiles.length === 0 ? 'none' : profiles.map((p) => `'${p.name}'`).join(', ')

  if (options.name !== undefined) {
    const found = profiles.find((p) => p.name === options.name)
    if (found === undefined) throw notFound(`profiles in '${iniPath}': ${names}`)
    return found
  }

  const installs = sections.filter((s) => s.title.startsWith('Install'))
  if (installs.length > 1) {
    throw new MailkeepError('Thunderbird has multiple installs, so no default profile exists', {
      hint: `name one with --profile (profiles in '${iniPath}': ${names})`,
    })
  }
  let chosen: ThunderbirdProfile | undefined
  if (installs.length === 1) {
    const defaultPath = installs[0]!.entries.get('Default')
    const section = sections.find((s) => s.title.startsWith('Profile') && s.entries.get('Path') === defaultPath)
    chosen = section === undefined ? undefined : toProfile(section, dataDir)
  } else {
    const marked = sections.find((s) => s.title.startsWith('Profile') && s.entries.get('Default') === '1')
    chosen = marked !== undefined ? toProfile(marked, dataDir) : profiles.length === 1 ? profiles[0] : undefined
  }
  if (chosen === undefined) throw notFound(`name a profile with --profile (profiles in '${iniPath}': ${names})`)
  return chosen
}

function toProfile(section: IniSection, dataDir: string): ThunderbirdProfile {
  const path = section.entries.get('Path') ?? ''
  // IsRelative=1: relative to the data directory (with `/` separators even on Windows).
  const relative = section.entries.get('IsRelative') === '1' || !isAbsolute(path)
  return {
    section: section.title,
    name: section.entries.get('Name') ?? section.title,
    path: relative ? join(dataDir, ...path.split('/')) : path,
  }
}
