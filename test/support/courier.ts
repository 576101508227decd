/**
 * A private, real Courier IMAP 5.0 for one test file (Debian's build, unpacked by
 * `scripts/install-imap-servers.sh`): its own temp dir, users, port and log, started as a child
 * process (`couriertcpd`, which runs `imaplogin` and `imapd` for each connection) in a private
 * mount namespace and stopped by PID (`namespaced-server.ts`). `docs/testing.md` ("Courier")
 * explains each setting.
 *
 * Courier has one namespace shape: separator '.' with the personal prefix `INBOX.`. Mail is
 * Maildir++ under `<dir>/mail/<user>/Maildir`. Users are in a userdb (`authuserdb`, built by
 * makeuserdb) that Courier's authentication daemon, started in the same namespace, reads from
 * /etc/courier/userdb.dat: the namespace mounts the instance's own directory there.
 */
import {createHash} from 'node:crypto'
import {chown, mkdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {DEFAULT_USERS, type TestUser} from './dovecot.js'
import {NamespacedServer, SERVERS_ROOT, type ServerCommand} from './namespaced-server.js'
import {folderStatus, withSession} from './mail-seed.js'
import {run, sleep, systemUser} from './processes.js'
import {mailboxArg} from './raw-imap.js'

export interface CourierOptions {
  users?: readonly TestUser[]
  /** Environment settings of imapd (see Debian's /etc/courier/imapd), added to ours. */
  imapdSettings?: Record<string, string>
  startTimeoutMs?: number
}

const MAKEUSERDB = '/usr/sbin/makeuserdb'
const AUTHDAEMOND = '/usr/lib/courier/courier-authlib/authdaemond'
/**
 * Mail is owned by the `courier` user that courier-authlib's package creates. A uid without a
 * passwd entry (as the Dovecot harness uses) works for IMAP, but then the file alteration
 * monitor (gamin) cannot name its socket and every LOGIN gets an `[ALERT] Filesystem
 * notification initialization error`, which a real installation does not send.
 */
const MAIL_USER = 'courier'

/** Debian's capability list (/etc/courier/imapd), which real installations announce. */
export const COURIER_CAPABILITY = 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE'

export async function startCourier(options: CourierOptions = {}): Promise<CourierInstance> {
  const users = [...(options.users ?? DEFAULT_USERS)]
  validate(users)
  return CourierInstance.start(options, users)
}

export class CourierInstance extends NamespacedServer {
  protected readonly title = 'Courier'

  private constructor(
    dir: string,
    users: readonly TestUser[],
    private readonly options: CourierOptions,
  ) {
    super(dir, users, '.', 'INBOX.', options.startTimeoutMs ?? 20_000)
  }

  static async start(options: CourierOptions, users: TestUser[]): Promise<CourierInstance> {
    return NamespacedServer.launch((dir) => new CourierInstance(dir, users, options), 'mailkeep-courier-')
  }

  /** The Maildir of a user's INBOX; folder `INBOX.A.B` is its subdirectory `.A.B`. */
  maildir(user: string): string {
    return join(this.dir, 'mail', user, 'Maildir')
  }

  /** The directory of one folder (Maildir++: `.` + the name without `INBOX.`). */
  folderDir(user: string, folder: string): string {
    if (folder.toUpperCase() === 'INBOX') return this.maildir(user)
    if (!folder.startsWith(this.prefix)) throw new Error(`Courier folder '${folder}' lacks the prefix ${this.prefix}`)
    return join(this.maildir(user), `.${folder.slice(this.prefix.length)}`)
  }

  /**
   * A new UIDVALIDITY for one folder, as Courier itself makes one: remove the folder's UID list
   * (`courierimapuiddb`); the next session that opens the folder numbers its messages anew
   * (1…n in file-name order) under a new UIDVALIDITY derived from the clock, so within the
   * same second it may come out unchanged: then it waits and does it again. Flags, keywords and
   * internal dates (file names, `courierimapkeywords`, file times) stay. Courier picks the
   * value; `newValue` is not supported. Use `forceUidValidityChange` (mail-seed.ts).
   */
  async changeUidValidity(user: string, folder: string, newValue?: number): Promise<void> {
    if (newValue !== undefined) throw new Error('Courier picks the new UIDVALIDITY itself; newValue is not supported')
    const before = (await folderStatus(this, user, folder)).uidValidity
    for (let attempt = 1; ; attempt++) {
      await rm(join(this.folderDir(user, folder), 'courierimapuiddb'), {force: true})
      // SELECT writes the new UID list.
      await withSession(this, user, (c) => c.command(`SELECT ${mailboxArg(folder)}`))
      if ((await folderStatus(this, user, folder)).uidValidity !== before) return
      if (attempt >= 5) throw new Error(`Courier kept the UIDVALIDITY ${before} of '${folder}'`)
      await sleep(1000 - (Date.now() % 1000) + 10)
    }
  }

  protected async prepare(): Promise<void> {
    const etc = join(this.dir, 'etc')
    await mkdir(etc, {mode: 0o755})
    const {uid, gid} = systemUser(MAIL_USER)
    const lines = this.users.map(({user, password}) => {
      const home = join(this.dir, 'mail', user)
      // {SHA512}: base64 of the SHA-512 digest, one of the schemes authlib checks.
      const hash = createHash('sha512').update(password, 'utf8').digest('base64')
      return `${user}\tuid=${uid}|gid=${gid}|home=${home}|systempw={SHA512}${hash}\n`
    })
    const userdb = join(etc, 'userdb')
    await writeFile(userdb, lines.join(''), {mode: 0o600})
    await run(MAKEUSERDB, ['-f', userdb])
    await writeFile(
      join(etc, 'authdaemonrc'),
      ['authmodulelist="authuserdb"', 'daemons=3', 'authdaemonvar=/run/courier/authdaemon', 'DEBUG_LOGIN=0', 'DEFAULTOPTIONS=""', 'LOGGEROPTS=""', ''].join('\n'),
      {mode: 0o644},
    )
    const mail = join(this.dir, 'mail')
    await mkdir(mail, {mode: 0o755})
    await chown(mail, uid, gid)
    for (const {user} of this.users) {
      const home = join(mail, user)
      for (const sub of ['', 'Maildir', 'Maildir/cur', 'Maildir/new', 'Maildir/tmp']) {
        await mkdir(join(home, sub), {mode: 0o700})
        await chown(join(home, sub), uid, gid)
      }
    }
  }

  protected async command(): Promise<ServerCommand> {
    const root = SERVERS_ROOT
    await rm(join(this.dir, 'run'), {recursive: true, force: true})
    const settings: Record<string, string> = {
      // Debian's /etc/courier/imapd, less what concerns other services.
      IMAP_CAPABILITY: COURIER_CAPABILITY,
      IMAP_KEYWORDS: '1',
      IMAP_ACL: '1',
      IMAP_IDLE_TIMEOUT: '60',
      IMAP_MAILBOX_SANITY_CHECK: '1',
      IMAP_DISABLETHREADSORT: '0',
      IMAP_CHECK_ALL_FOLDERS: '0',
      IMAP_OBSOLETE_CLIENT: '0',
      IMAP_UMASK: '022',
      IMAP_ULIMITD: '131072',
      IMAP_USELOCKS: '1',
      IMAP_ENHANCEDIDLE: '0',
      IMAP_TRASHFOLDERNAME: 'Trash',
      // Debian purges Trash messages older than 7 days at login ("Trash:7"); Courier's
      // INTERNALDATE is the file's time, so seeded old mail in a Trash folder would vanish.
      IMAP_EMPTYTRASH: '',
      IMAP_MOVE_EXPUNGE_TO_TRASH: '0',
      MAILDIRPATH: 'Maildir',
      ...this.options.imapdSettings,
    }
    return {
      argv: [
        join(root, 'usr/sbin/couriertcpd'),
        `-address=${this.host}`,
        // Tests open many connections from one address.
        '-maxprocs=200',
        '-maxperip=200',
        '-nodnslookup',
        '-noidentlookup',
        `-stderr=${this.logPath}`,
        String(this.port),
        join(root, 'usr/lib/courier/courier/imaplogin'),
        join(root, 'usr/bin/imapd'),
        'Maildir',
      ],
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        LD_LIBRARY_PATH: `${join(root, 'usr/lib/x86_64-linux-gnu')}:${join(root, 'usr/lib')}`,
        // INTERNALDATE and log times in UTC whatever the host says.
        TZ: 'UTC',
        // gamin names its per-user server socket after this: one file monitor per instance.
        GAM_CLIENT_ID: this.instanceName,
        ...settings,
      },
      namespace: {
        tmpfs: ['/run'],
        mkdirs: ['/run/courier/authdaemon'],
        binds: [[join(this.dir, 'etc'), '/etc/courier']],
        background: [{argv: [AUTHDAEMOND], log: this.logPath}],
      },
    }
  }
}

function validate(users: TestUser[]): void {
  if (users.length === 0) throw new Error('at least one user is needed (the start-up probe logs in as the first)')
  for (const {user, password} of users) {
    // userdb: name<TAB>fields; the name is also a directory name. Courier wants lower case.
    if (!/^[a-z0-9._@+-]+$/.test(user)) throw new Error(`unsupported test user name ${JSON.stringify(user)}`)
    if (/[\r\n]/.test(password) || password === '') throw new Error(`unsupported password for ${user}: empty, or contains a line break`)
  }
}
