import { mermaidDiagram } from '../../domain/diagram';
import { httpHandler, machineId } from './httpHandler';
import { readMachineWithHistory } from './machineReads';

/** GET /machines/{id}/diagram: Mermaid stateDiagram-v2 text. */
export const handler = httpHandler(async (request) => {
  const { record, events } = await readMachineWithHistory(machineId(request));
  return { status: 200, text: mermaidDiagram(record, events) };
});
