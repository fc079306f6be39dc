// The suites of lane packaging, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('packaging');
