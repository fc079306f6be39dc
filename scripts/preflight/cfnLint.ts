import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { validateFile } from 'cfn-lint';

const run = promisify(execFile);

export interface LintFinding {
  level: 'Error' | 'Warning' | 'Informational';
  rule: string;
  path: string;
  message: string;
}

export interface LintResult {
  /** Which cfn-lint ran, and its version. */
  linter: string;
  findings: LintFinding[];
}

/**
 * The npm cfn-lint (1.9.7) checks against CloudFormation's resource specification 2.29.0 of 2019,
 * which predates these properties of Lambda, DynamoDB, SQS and HTTP APIs, and requires two
 * properties only WebSocket APIs need since HTTP APIs exist (a stage with AutoDeploy needs no
 * DeploymentId). Each one is in today's specification; each message is dropped by its exact
 * text, so anything else it finds, such as a misspelt property, still counts.
 */
export const NEWER_THAN_NPM_CFN_LINT_SPEC = new Set([
  'Architectures is not a valid property of AWS::Lambda::Function',
  'RecursiveLoop is not a valid property of AWS::Lambda::Function',
  'FunctionResponseTypes is not a valid property of AWS::Lambda::EventSourceMapping',
  'ScalingConfig is not a valid property of AWS::Lambda::EventSourceMapping',
  'DeletionProtectionEnabled is not a valid property of AWS::DynamoDB::Table',
  'SqsManagedSseEnabled is not a valid property of AWS::SQS::Queue',
  'PayloadFormatVersion is not a valid property of AWS::ApiGatewayV2::Integration',
  'AutoDeploy is not a valid property of AWS::ApiGatewayV2::Stage',
  'Required property RouteSelectionExpression missing for type AWS::ApiGatewayV2::Api',
  'Required property DeploymentId missing for type AWS::ApiGatewayV2::Stage',
]);

/** The npm cfn-lint's errors, but what its 2019 specification does not know yet. */
export function npmCfnLintErrors(result: ReturnType<typeof validateFile>): string[] {
  return result.errors.crit
    .filter((error) => !NEWER_THAN_NPM_CFN_LINT_SPEC.has(error.message))
    .map((error) => `${error.resource}: ${error.message}`);
}

/** Python's cfn-lint on the PATH, not the npm one that npm scripts put first (node_modules/.bin). */
function pythonCfnLint(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const candidate = join(dir, 'cfn-lint');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Lints a template file: with Python's cfn-lint when it is on the PATH (its resource
 * specification is current), else with the npm one (docs/deploying.md "Preflight").
 */
export async function cfnLint(file: string): Promise<LintResult> {
  const bin = pythonCfnLint();
  const python =
    bin &&
    (await run(bin, ['--version']).then(
      ({ stdout }) => stdout.trim(),
      () => undefined,
    ));
  if (bin && python) {
    // Exit codes are a bit mask of the levels found (2 error, 4 warning, 8 info): not a failure.
    const { stdout } = await run(bin, ['--format', 'json', file], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stdout?: string; code?: number }) => {
        if (typeof error.code === 'number' && error.code < 16 && error.stdout) return { stdout: error.stdout };
        throw error;
      },
    );
    type Finding = {
      Level: LintFinding['level'];
      Rule: { Id: string };
      Location?: { Path?: unknown[] };
      Message: string;
    };
    const findings = (JSON.parse(stdout) as Finding[]).map((f) => ({
      level: f.Level,
      rule: f.Rule.Id,
      path: (f.Location?.Path ?? []).join('/'),
      message: f.Message,
    }));
    return { linter: `${python} (Python, current specification)`, findings };
  }
  const errors = npmCfnLintErrors(validateFile(file));
  return {
    linter: 'npm cfn-lint 1.9.7 (2019 specification; newer properties allowed by name)',
    findings: errors.map((message) => ({ level: 'Error', rule: 'npm', path: '', message })),
  };
}
