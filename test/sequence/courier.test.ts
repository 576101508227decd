// Random operation sequences on Courier, every invariant checked after every step (suite.ts;
// docs/reliability.md, "The sequence test").
import {sequenceSuite} from './suite.js'

sequenceSuite('courier')
