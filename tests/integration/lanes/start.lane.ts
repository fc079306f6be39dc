// The suites of lane start, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('start');
