// The suites of lane main, in order (tests/integration/lanes.ts).
import { loadLane } from '../lanes';

loadLane('main');
