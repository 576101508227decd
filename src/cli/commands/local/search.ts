import {Args, Flags} from '@oclif/core'
import {localFolders} from '../../../engine/inspect/local-folders.js'
import {streamSearch, type FoundMessage} from '../../../engine/inspect/local-search.js'
import {formatFlag} from '../../format-flag.js'
import {BaseCommand} from '../../base-command.js'
import {MessageTable, searchFooter} from '../../render/local-list.js'
import {StreamWriter, writeJsonArray} from '../../stream-output.js'

/** `mailkeep local search EMAIL [criteria]` (docs/commands/local.md). */
export default class LocalSearch extends BaseCommand<typeof LocalSearch, AsyncIterable<FoundMessage>> {
  static override summary = 'find stored messages by sender, recipient, subject or date, across folders'
  static override description = [
    "Searches the account's backup, every folder or the ones given with --folder, reading only each message's header block. Text criteria are case-insensitive parts of the decoded header (RFC 2047): --from of From (name and address), --to of To and Cc, --subject of Subject. --since and --before take a day, YYYY-MM-DD, and compare the day of the Date header in the message's own time zone (--since that day or later, --before earlier days). Every criterion given must match; with none, every message is listed.",
    'Prints folder, UID, date, sender, size and subject of each match; `mailkeep local show EMAIL FOLDER UID` prints a message. --json gives [{folder, uid, date, from, to, subject, size}]. Read-only; works while a backup runs (it reads what is committed). Exit status: 0 (also when nothing matches); 2 a bad date or an unknown folder; 3 config.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> local search me@example.com --from alice --since 2024-01-01',
    "<%= config.bin %> local search me@example.com --subject invoice --folder INBOX --folder 'Sent Items'",
    '<%= config.bin %> local search me@example.com --to bob@example.org --before 2023-07-01 --json',
  ]
  static override args = {email: Args.string({description: 'the account (username)', required: true})}
  static override flags = {
    from: Flags.string({description: 'part of the sender (From: name or address)'}),
    to: Flags.string({description: 'part of a recipient (To: or Cc:, name or address)'}),
    subject: Flags.string({description: 'part of the subject'}),
    since: Flags.string({description: 'sent on this day or later (YYYY-MM-DD)'}),
    before: Flags.string({description: 'sent before this day (YYYY-MM-DD)'}),
    folder: Flags.string({description: "only this folder (its server name); repeat for several", multiple: true}),
    format: formatFlag,
  }

  private folders: readonly string[] = []

  protected override async exec(): Promise<AsyncIterable<FoundMessage>> {
    const config = await this.loadConfigAndWarn()
    const f = this.flags
    const criteria = {
      ...(f.from === undefined ? {} : {from: f.from}),
      ...(f.to === undefined ? {} : {to: f.to}),
      ...(f.subject === undefined ? {} : {subject: f.subject}),
      ...(f.since === undefined ? {} : {since: f.since}),
      ...(f.before === undefined ? {} : {before: f.before}),
      ...(f.folder === undefined ? {} : {folders: f.folder}),
    }
    // For the width of the folder column, known before the first match is printed.
    this.folders = f.folder ?? (await localFolders(config, this.args.email, this.ctx)).map((x) => x.name)
    return streamSearch(config, this.args.email, criteria, this.ctx)
  }

  /** Each match is written as it is found: a search that matches 100,000 messages holds none. */
  override async run(): Promise<void> {
    const found = await this.exec()
    const out = new StreamWriter()
    if (this.flags.json) {
      await writeJsonArray(found, out)
      return
    }
    const table = new MessageTable(this.folders)
    let count = 0
    let first: FoundMessage | undefined
    for await (const m of found) {
      if (count === 0) await out.write(table.header())
      first ??= m
      count++
      await out.write(table.line(m))
    }
    await out.write(searchFooter(count, first, this.args.email))
    await out.flush()
  }
}
