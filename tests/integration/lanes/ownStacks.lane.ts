// The suites of lane ownStacks, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('ownStacks');
