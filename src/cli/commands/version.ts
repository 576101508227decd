import {BaseCommand} from '../base-command.js'
import {mailkeepVersion} from '../version-info.js'

export default class Version extends BaseCommand<typeof Version, {name: string; version: string}> {
  static override description = 'print the version of mailkeep'

  protected override async exec(): Promise<{name: string; version: string}> {
    return {name: 'mailkeep', version: mailkeepVersion()}
  }

  protected override renderText(result: {name: string; version: string}): string {
    return `${result.name} ${result.version}`
  }
}
