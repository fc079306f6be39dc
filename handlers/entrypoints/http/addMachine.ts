import { parseMachineDefinition } from '../../../domain/definition';
import { toView } from '../../../domain/machine';
import { addMachine } from '../../application/addMachine';
import { functionScope } from '../../wiring/config';
import { getServices } from '../../wiring/services';
import { httpHandler } from './httpHandler';

/** POST /machines: 201 with the new machine; the same named definition again: 200 with it. */
export const handler = httpHandler(async ({ body, context, caller }) => {
  const services = getServices();
  const definition = parseMachineDefinition(body, functionScope(services.config, context.invokedFunctionArn), {
    leaseSeconds: services.config.leaseSeconds,
  });
  const { created, record } = await addMachine(services, definition, caller);
  return { status: created ? 201 : 200, body: toView(record, services.now()) };
});
