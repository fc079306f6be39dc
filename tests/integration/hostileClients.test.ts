import { expect } from 'chai';
import { MAX_SVG_STATES } from '../../domain/limits';
import { api, getMachine, waitFor } from '../helpers/api';
import { currentStack } from '../helpers/stack';

/** A raw request to the local API, so the test controls every header. */
const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  fetch(`${currentStack().apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });

const accessControl = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

describe('what a hostile client or web page gets from the local API', function () {
  this.timeout(60_000);

  describe('CORS: none, as the deployed HTTP API sets none', () => {
    const evil = { origin: 'http://evil.example' };

    it('answers no preflight of an origin nobody listed', async () => {
      const preflight = await raw('OPTIONS', '/machines/x', {
        ...evil,
        'access-control-request-method': 'DELETE',
      });
      expect(preflight.status).to.equal(403);
      expect(accessControl(preflight)).to.deep.equal([]);
    });

    it('lets no such page read an answer, nor act with a simple request (text/plain, no preflight)', async () => {
      const listed = await raw('GET', '/machines', evil);
      expect(listed.status).to.equal(403);
      expect(accessControl(listed)).to.deep.equal([]);
      const name = `csrf-${Date.now()}`;
      const added = await raw(
        'POST',
        '/machines',
        { ...evil, 'content-type': 'text/plain' },
        JSON.stringify({ name, state: 'S', config: { S: 'noop' } }),
      );
      expect(added.status).to.equal(403);
      expect((await getMachine(name)).status).to.equal(404);
    });

    it('lets no web page invoke a function on the Lambda endpoint', async () => {
      const invoked = await fetch(
        `${currentStack().info.endpoints.lambda}/2015-03-31/functions/serverless-statemachine-local-listMachines/invocations`,
        {
          method: 'POST',
          headers: { ...evil, 'content-type': 'text/plain' },
          body: '{}',
        },
      );
      expect(invoked.status).to.equal(403);
      expect(accessControl(invoked)).to.deep.equal([]);
    });
  });

  describe('bodies: any body that is present must be a JSON object', () => {
    it('answers 400 "not an object" to a null, false, 0 or string body of resume and redrive, and acts on none', async () => {
      const parked = await api('POST', '/machines', { state: 'S', config: { S: 'park', FINALIZE: 'finalize' } });
      const failed = await api('POST', '/machines', { state: 'S', config: { S: 'garbage' } });
      await waitFor(
        () => Promise.all([getMachine(parked.body.id), getMachine(failed.body.id)]),
        ([p, f]) => p.body.status === 'PARKED' && f.body.status === 'FAILED',
        { what: 'one machine PARKED and one FAILED' },
      );
      for (const [action, id] of [
        ['resume', parked.body.id],
        ['redrive', failed.body.id],
      ]) {
        // serverless-offline would hand these on as no body, a value, or (a JSON string) unquoted.
        for (const [body, what] of [
          ['null', 'null'],
          ['false', 'a boolean'],
          ['0', 'a number'],
          ['"{}"', 'a string'],
        ]) {
          const answer = await api('POST', `/machines/${id}/${action}`, body);
          expect(answer.status, `${action} ${body}`).to.equal(400);
          expect(answer.body).to.deep.equal({
            error: 'request body is not an object',
            code: 'VALIDATION_FAILED',
            details: [{ path: '(body)', message: `must be a JSON object, not ${what}` }],
          });
        }
      }
      expect((await getMachine(parked.body.id)).body).to.include({ status: 'PARKED', version: 1 });
      expect((await getMachine(failed.body.id)).body.status).to.equal('FAILED');
    });
  });

  describe('the SVG diagram of a machine too large to lay out', () => {
    it('answers 413 with the limits, and the Mermaid text still', async () => {
      const config = Object.fromEntries(Array.from({ length: MAX_SVG_STATES + 1 }, (_, i) => [`S${i}`, 'park']));
      const added = await api('POST', '/machines', { state: 'S0', config, catch: { '*': 'S1' } });
      const path = `/machines/${added.body.id}/diagram`;
      const svg = await api('GET', `${path}?format=svg`);
      expect(svg.status).to.equal(413);
      expect(svg.body).to.include({ code: 'PAYLOAD_TOO_LARGE' });
      expect(svg.body.details).to.deep.include({ states: MAX_SVG_STATES + 1, maxStates: MAX_SVG_STATES });
      const mermaid = await api('GET', path);
      expect(mermaid.status).to.equal(200);
      expect(mermaid.text).to.match(/^stateDiagram-v2\n/);
      await api('DELETE', `/machines/${added.body.id}`);
    });
  });

  describe('delete, then add again by name', () => {
    it('answers 409 "being removed" while the removal waits for a running handler, then adds it once it is gone', async () => {
      const definition = {
        name: `readd-${Date.now()}`,
        state: 'S',
        config: { S: 'sleepy' },
        object: { sleepMs: 1500 },
      };
      const id = definition.name;
      expect((await api('POST', '/machines', definition)).status).to.equal(201);
      await waitFor(
        () => getMachine(id),
        (r) => r.body.handlerRunning === true,
        { what: 'its handler to run' },
      );
      const deleted = await api('DELETE', `/machines/${id}`);
      expect(deleted.status).to.equal(202);
      expect(deleted.body).to.deep.equal({ id, removing: true });

      const again = await api('POST', '/machines', definition);
      expect(again.status).to.equal(409);
      expect(again.body).to.deep.equal({
        error: `a machine named '${id}' is being removed; add it again once it is gone`,
        code: 'CONFLICT',
        details: { name: id, reason: 'removing' },
      });

      await waitFor(
        () => getMachine(id),
        (r) => r.status === 404,
        { what: 'the removal to end' },
      );
      const added = await api('POST', '/machines', definition);
      expect(added.status).to.equal(201);
      expect(added.body).to.include({ id, status: 'RUNNING', version: 0 });
      expect(added.body).not.to.have.property('removing');
    });
  });
});
