/**
 * The peers of bench/backup.ts, run against the same Dovecot when they are installed
 * (`apt-get install isync interimap`): mbsync (isync) pulling a folder into a Maildir, and
 * InterIMAP copying it into a local Dovecot (its only kind of local store: a Dovecot `imap`
 * process it starts itself, over a pipe, with a Maildir). Each keeps its state in the directory
 * it is given, so a second run in the same directory is incremental. Both run with their default
 * settings otherwise (mbsync fsyncs every message, as it does by default).
 *
 * InterIMAP's local `imap` process runs as MAIL_UID (Dovecot refuses to serve mail as root on
 * a socket), so its directory belongs to that user.
 */
import {execFileSync} from 'node:child_process'
import {chmod, chown, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {MAIL_UID} from '../../test/support/dovecot.js'
import {measureProcess, type ProcessStats} from './process-stats.js'

export interface PeerTarget {
  host: string
  port: number
  user: string
  password: string
}

function which(command: string): string | undefined {
  try {
    return execFileSync('which', [command], {encoding: 'utf8'}).trim() || undefined
  } catch {
    return undefined
  }
}

export const MBSYNC = which('mbsync')
export const INTERIMAP = which('interimap')
const SETPRIV = which('setpriv')
const DOVEADM = which('doveadm')
export const INTERIMAP_USABLE = INTERIMAP !== undefined && SETPRIV !== undefined && DOVEADM !== undefined

/** A password or user name in mbsync's configuration syntax (a quoted string). */
const mbsyncString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`

/** mbsync pulls `folder` into `dir`/maildir; its state (SyncState) stays in the Maildir. */
export async function runMbsync(target: PeerTarget, folder: string, dir: string): Promise<ProcessStats> {
  if (MBSYNC === undefined) throw new Error('mbsync is not installed')
  const local = join(dir, 'maildir')
  await mkdir(local, {recursive: true, mode: 0o700})
  const config = join(dir, 'mbsyncrc')
  await writeFile(
    config,
    [
      'IMAPAccount bench',
      `Host ${target.host}`,
      `Port ${target.port}`,
      `User ${mbsyncString(target.user)}`,
      `Pass ${mbsyncString(target.password)}`,
      'SSLType None',
      'AuthMechs PLAIN LOGIN',
      '',
      'IMAPStore bench-remote',
      'Account bench',
      '',
      'MaildirStore bench-local',
      `Path ${local}/`,
      `Inbox ${local}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel bench',
      'Far :bench-remote:',
      'Near :bench-local:',
      `Patterns ${mbsyncString(folder)}`,
      'Create Near',
      'Sync Pull',
      'SyncState *',
      '',
    ].join('\n'),
    {mode: 0o600},
  )
  return measureProcess(MBSYNC, ['-q', '-c', config, 'bench'])
}

/** InterIMAP copies `folder` into a local Dovecot whose Maildir and database are in `dir`. */
export async function runInterimap(target: PeerTarget, folder: string, dir: string): Promise<ProcessStats> {
  if (!INTERIMAP_USABLE) throw new Error('interimap (with setpriv and doveadm) is not installed')
  const mail = join(dir, 'mail')
  await mkdir(mail, {recursive: true})
  await mkdir(join(dir, 'data'), {recursive: true, mode: 0o700})
  // The local imap process runs as MAIL_UID and must reach its Maildir.
  await chmod(dir, 0o755)
  await chown(mail, MAIL_UID, MAIL_UID)
  await writeFile(join(dir, 'dovecot.conf'), ['ssl = no', `mail_location = maildir:${mail}`, 'namespace {', '  inbox = yes', '  separator = /', '}', ''].join('\n'))
  const config = join(dir, 'config')
  await writeFile(
    config,
    [
      `database = ${join(dir, 'data', 'remote.db')}`,
      `list-mailbox = "${folder}"`,
      '[local]',
      'type = tunnel',
      `command = exec env -i PATH=/usr/bin:/bin HOME=${dir} USER=bench ${SETPRIV} --reuid=${MAIL_UID} --regid=${MAIL_UID} --clear-groups ${DOVEADM} -c ${join(dir, 'dovecot.conf')} exec imap`,
      '[remote]',
      'type = imap',
      `host = ${target.host}`,
      `port = ${target.port}`,
      'STARTTLS = NO',
      `username = ${target.user}`,
      `password = ${target.password}`,
      '',
    ].join('\n'),
    {mode: 0o600},
  )
  return measureProcess(INTERIMAP as string, [`--config=${config}`])
}
