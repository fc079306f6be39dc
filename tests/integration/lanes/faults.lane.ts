// The suites of lane faults, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('faults');
