// The framework creates its shared default role (IamRoleLambdaExecution) while packaging, with
// receive/delete on every queue any function is triggered by, before serverless-iam-roles-per-function
// gives each function a role of its own. When every function has its own, the default role is used
// by none, yet any function added later without statements would run with it. Dropped here, after
// the per-function roles exist (list this plugin after serverless-iam-roles-per-function), so the
// stack holds only the roles its functions use.
const DEFAULT_ROLE = 'IamRoleLambdaExecution';

class DropUnusedDefaultRole {
  constructor(serverless) {
    this.hooks = {
      'before:package:finalize': () =>
        dropUnusedDefaultRole(serverless.service.provider.compiledCloudFormationTemplate),
    };
  }
}

function dropUnusedDefaultRole(template) {
  const { [DEFAULT_ROLE]: role, ...others } = template.Resources;
  if (!role) return;
  const referenced = JSON.stringify({ ...template, Resources: others }).includes(`"${DEFAULT_ROLE}"`);
  if (!referenced) delete template.Resources[DEFAULT_ROLE];
}

module.exports = DropUnusedDefaultRole;
module.exports.dropUnusedDefaultRole = dropUnusedDefaultRole;
