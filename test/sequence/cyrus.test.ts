// Random operation sequences on Cyrus, every invariant checked after every step (suite.ts;
// docs/reliability.md, "The sequence test").
import {sequenceSuite} from './suite.js'

sequenceSuite('cyrus')
