// The suites of lane side, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('side');
