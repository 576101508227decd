export {mailkeepVersion} from '../shared/version.js'
