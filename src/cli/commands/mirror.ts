import type {Config} from '../../config/index.js'
import {runTransfer} from '../../engine/upload/copy.js'
import type {TransferReport} from '../../engine/upload/types.js'
import {namingFlags, transferArgs, transferOptions, TRANSFER_EXIT_STATUS, UploadCommand} from '../transfer-command.js'

/** `mailkeep mirror SOURCE_EMAIL DESTINATION_EMAIL` (docs/commands/copy-mirror-migrate.md). */
export default class Mirror extends UploadCommand<typeof Mirror> {
  static override summary = "back up an account, then make another account's folders equal to its backup"

  static override description = [
    'As copy, and copies whose source message is gone from the backup (in mirror mode: deleted on the source server) are deleted on the destination. Nothing else is ever deleted: unlike imap-backup, a first run does not empty the destination folders; messages already there that are byte-identical copies are adopted, all others are kept.',
    TRANSFER_EXIT_STATUS,
  ].join('\n\n')

  static override examples = ['<%= config.bin %> mirror me@example.com replica@example.net']

  static override args = transferArgs
  static override flags = namingFlags

  protected override upload(config: Config): Promise<TransferReport> {
    return runTransfer(transferOptions('mirror', config, this.args, this.flags), this.ctx)
  }
}
