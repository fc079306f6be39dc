import { expect } from 'chai';
import { consoleCommand } from '../../../cli/commands/console';
import { diagram } from '../../../cli/commands/diagram';
import { CliError } from '../../../cli/errors';
import { ApiClient } from '../../../client/apiClient';
import type { ConsoleOptions } from '../../../console/server';
import { FakeServer } from '../client/fakeServer';

describe('fsm console and fsm diagram --svg', () => {
  const out: string[] = [];
  const ctx = (json = false) => ({
    api: new ApiClient({ endpoint: 'http://127.0.0.1:3000' }),
    json,
    write: (text: string) => out.push(text),
  });
  beforeEach(() => {
    out.length = 0;
  });

  it('starts the console for --endpoint on the port asked and prints the URL with its token', async () => {
    const seen: ConsoleOptions[] = [];
    const fakeStart = async (options: ConsoleOptions) => {
      seen.push(options);
      return {
        url: 'http://127.0.0.1:5555/?token=t',
        origin: 'http://127.0.0.1:5555',
        port: 5555,
        endpoint: options.endpoint,
        stop: async () => {},
      };
    };
    await consoleCommand(ctx(), { port: '5555', open: false }, fakeStart);
    expect(seen).to.deep.equal([{ endpoint: 'http://127.0.0.1:3000', port: 5555, openBrowser: false }]);
    expect(out.join('\n')).to.include('http://127.0.0.1:5555/?token=t');
    await consoleCommand(ctx(true), { port: '0', open: true }, fakeStart);
    expect(JSON.parse(out.at(-1) ?? '')).to.deep.equal({
      url: 'http://127.0.0.1:5555/?token=t',
      endpoint: 'http://127.0.0.1:3000',
    });
    const sign = (request: import('../../../client/apiClient').ApiRequest) => request;
    await consoleCommand({ ...ctx(), transformRequest: sign }, { port: '0', open: false }, fakeStart);
    expect(seen.at(-1)?.transformRequest, 'the console signs as the CLI does').to.equal(sign);
    let error: unknown;
    await consoleCommand(ctx(), { port: 'x', open: false }, fakeStart).catch((e) => {
      error = e;
    });
    expect(error).to.be.instanceOf(CliError);
  });

  it('prints the SVG the API serves, and fails on an API that answers no SVG', async () => {
    const server = await new FakeServer().start();
    try {
      server.reply = () => ({ status: 200, text: '<svg></svg>\n', contentType: 'image/svg+xml; charset=utf-8' });
      const context = { api: new ApiClient({ endpoint: server.url }), json: false, write: (t: string) => out.push(t) };
      await diagram(context, 'm-1', { svg: true });
      expect(out).to.deep.equal(['<svg></svg>']);
      expect(server.requests[0]?.url).to.equal('/machines/m-1/diagram?format=svg');
      expect(server.requests[0]?.headers.accept).to.equal('image/svg+xml');
      server.reply = () => ({ status: 200, text: 'stateDiagram-v2\n' });
      const failed = await diagram(context, 'm-1', { svg: true }).catch((e: Error & { code?: string }) => e);
      expect((failed as { code?: string }).code).to.equal('SVG_UNSUPPORTED');
    } finally {
      await server.stop();
    }
  });
});
