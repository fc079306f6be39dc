import { mermaidDiagram } from '../../../domain/diagram';
import { readMachineWithHistory } from '../../application/readMachine';
import { getServices } from '../../wiring';
import { httpHandler, machineId } from './httpHandler';

/** GET /machines/{id}/diagram: Mermaid stateDiagram-v2 text. */
export const handler = httpHandler(async (request) => {
  const { store, now } = getServices();
  const { record, events } = await readMachineWithHistory(store, machineId(request), now());
  return { status: 200, text: mermaidDiagram(record, events) };
});
