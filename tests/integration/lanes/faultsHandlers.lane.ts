// The suites of lane faultsHandlers, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('faultsHandlers');
