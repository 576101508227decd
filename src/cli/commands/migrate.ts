import {Flags} from '@oclif/core'
import type {Config} from '../../config/index.js'
import {runTransfer} from '../../engine/upload/copy.js'
import type {TransferReport} from '../../engine/upload/types.js'
import {namingFlags, transferArgs, transferOptions, TRANSFER_EXIT_STATUS, UploadCommand} from '../transfer-command.js'

/** `mailkeep migrate SOURCE_EMAIL DESTINATION_EMAIL` (docs/commands/copy-mirror-migrate.md). */
export default class Migrate extends UploadCommand<typeof Migrate> {
  static override summary = "upload an account's backup to another account, without backing it up first"

  static override description = [
    'Uploads every backed-up message of SOURCE_EMAIL to DESTINATION_EMAIL once (the .mirror maps make a rerun upload nothing twice, unlike imap-backup). --reset --yes first deletes every message of each destination folder.',
    TRANSFER_EXIT_STATUS,
  ].join('\n\n')

  static override examples = ['<%= config.bin %> migrate me@old.example me@new.example', '<%= config.bin %> migrate me@old.example me@new.example --reset --yes']

  static override args = transferArgs

  static override flags = {
    ...namingFlags,
    reset: Flags.boolean({char: 'r', description: 'DANGER: delete every message in each destination folder before uploading (needs --yes)'}),
    yes: Flags.boolean({description: 'confirm --reset'}),
  }

  protected override upload(config: Config): Promise<TransferReport> {
    return runTransfer({...transferOptions('migrate', config, this.args, this.flags), reset: this.flags.reset, confirmed: this.flags.yes}, this.ctx)
  }
}
