import { mermaidDiagram } from '../../../domain/diagram';
import { MAX_DIAGRAM_EVENTS } from '../../../domain/limits';
import { readMachineWithHistory } from '../../application/readMachine';
import { getServices } from '../../wiring';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id}/diagram: Mermaid stateDiagram-v2 text. */
export const handler = httpHandler(async (request) => {
  const { store, now } = getServices();
  const { record, events, complete } = await readMachineWithHistory(store, machineId(request), now());
  const note = complete ? '' : `%% drawn from the first ${MAX_DIAGRAM_EVENTS} events of its history\n`;
  return { status: 200, text: mermaidDiagram(record, events) + note };
});
