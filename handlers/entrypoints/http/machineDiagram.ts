import type { Context } from 'aws-lambda';
import { mermaidDiagram } from '../../../domain/diagram';
import { SVG_CONTENT_TYPE } from '../../../domain/diagramSvg';
import { ValidationError } from '../../../domain/errors';
import { MAX_DIAGRAM_EVENTS } from '../../../domain/limits';
import { readMachineWithHistory } from '../../application/readMachine';
import { diagramSvg } from '../../wiring/diagram';
import { getReadServices } from '../../wiring/read';
import { type HttpRequest, httpHandler, machineId, type ProxyEvent, type ProxyResult } from './httpHandler';

async function read(request: HttpRequest) {
  const id = machineId(request);
  const { store, now } = getReadServices();
  return readMachineWithHistory(store, id, now());
}

const FORMATS = ['mermaid', 'svg'];

const mermaid = httpHandler(async (request) => {
  const format = request.query.format;
  if (format !== undefined && !FORMATS.includes(format.toLowerCase())) {
    throw new ValidationError('unknown diagram format', [{ path: 'format', message: 'mermaid or svg' }]);
  }
  const { record, events, complete } = await read(request);
  const note = complete ? '' : `%% drawn from the first ${MAX_DIAGRAM_EVENTS} events of its history\n`;
  return { status: 200, text: mermaidDiagram(record, events) + note };
});

const svg = httpHandler(async (request) => {
  const { record, events } = await read(request);
  return { status: 200, text: await diagramSvg(record, events) };
});

/** The event's headers (lower-case names in HTTP API events; any case in REST ones). */
type EventWithHeaders = ProxyEvent & { headers?: Record<string, string | undefined> | null };

/**
 * Whether the caller asked for SVG: `?format=svg`, or an Accept header that names
 * image/svg+xml (and not text/plain, which keeps Mermaid for `curl -H 'Accept: text/plain'`).
 * Any other `format` is Mermaid's (`mermaid`) or a 400.
 */
export function wantsSvg(event: EventWithHeaders): boolean {
  const format = event.queryStringParameters?.format?.toLowerCase();
  if (format === 'svg') return true;
  if (format !== undefined) return false;
  const accept = Object.entries(event.headers ?? {})
    .filter(([name]) => name.toLowerCase() === 'accept')
    .map(([, value]) => value ?? '')
    .join(',')
    .toLowerCase();
  return accept.includes('image/svg+xml') && !accept.includes('text/plain');
}

/**
 * GET /machines/{id}/diagram: Mermaid stateDiagram-v2 text, or the same diagram drawn as SVG
 * (`Accept: image/svg+xml` or `?format=svg`) with the current state highlighted.
 */
export async function handler(event: EventWithHeaders, context: Context): Promise<ProxyResult> {
  if (!wantsSvg(event)) {
    const result = await mermaid(event, context);
    return { ...result, headers: { ...result.headers, vary: 'accept' } };
  }
  const result = await svg(event, context);
  const headers: Record<string, string> = { ...result.headers, vary: 'accept' };
  // httpHandler answers text as text/plain; the 200 here is the SVG.
  if (result.statusCode === 200) headers['content-type'] = SVG_CONTENT_TYPE;
  return { ...result, headers };
}
