import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { table } from '../cli/format';
import { cfnLint } from './preflight/cfnLint';
import { preflightRows } from './preflight/checks';
import { packageStage, type Template } from './preflight/package';

/**
 * `npm run preflight -- --stage prod [sls package options]`: packages the stage and prints one
 * table of what a deploy would get (docs/deploying.md "Preflight"); exits 1 on any BREAKER.
 * `--template file` checks an already packaged template instead.
 */
async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const take = (name: string) => {
    const at = args.indexOf(name);
    if (at < 0) return undefined;
    const [, value] = args.splice(at, 2);
    if (value === undefined) throw new Error(`${name} needs a value`);
    return value;
  };
  const templateFile = take('--template');
  const stage = take('--stage') ?? 'dev';
  let file: string;
  let template: Template;
  let remove = async () => {};
  if (templateFile) {
    file = resolve(templateFile);
    template = JSON.parse(await readFile(file, 'utf8'));
  } else {
    process.stderr.write(`packaging stage ${stage} (sls package --stage ${stage} ${args.join(' ')})...\n`);
    ({ file, template, remove } = await packageStage(stage, args));
  }
  try {
    const lint = await cfnLint(file);
    const rows = await preflightRows(template, stage, lint);
    process.stdout.write(`${table(rows, ['check', 'item', 'result', 'detail'])}\n`);
    const breakers = rows.filter((row) => row.result === 'BREAKER').length;
    process.stdout.write(
      breakers > 0
        ? `\npreflight of stage ${stage}: ${breakers} BREAKER${breakers === 1 ? '' : 'S'}; fix before sls deploy\n`
        : `\npreflight of stage ${stage}: no breaker\n`,
    );
    return breakers > 0 ? 1 : 0;
  } finally {
    await remove();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`preflight failed: ${error.message}\n`);
    process.exitCode = 2;
  },
);
