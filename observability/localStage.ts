/**
 * What the local stack says about its API's authentication when it starts (the
 * serverless-offline plugin prints it): open by default, or the SigV4 front when asked for.
 */
export type LocalAuth = 'none' | 'iam';

export function localAuthLine(auth: LocalAuth, endpoint: string): string {
  return auth === 'none'
    ? `API ${endpoint} is open: no authentication (local stage, apiAuth none). Deployed stages require IAM (SigV4) by default.`
    : `API ${endpoint} requires SigV4 (IAM) signatures of the local credentials: fsm --auth iam, or curl --aws-sigv4 "aws:amz:us-east-1:execute-api".`;
}
