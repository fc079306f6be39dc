// The suites of lane faultsRecovery, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('faultsRecovery');
