// The independent IAM simulator the trust tests cross-check their evaluator with
// (@cloud-copilot/iam-simulate, pinned in package.json; a test tool, never deployed).
// One request per line on stdin, one answer per line on stdout, in order:
//   in:  {"principal", "action", "resource", "resourceAccount", "context": {key: [values]},
//         "identity": [doc], "boundary": doc|null, "resourcePolicy": doc|null, "scps": [doc]}
//   out: {"result": "Allowed"|"ExplicitlyDenied"|"ImplicitlyDenied", "ignoredContextKeys": [..]}
//        or {"error": "..."} when the simulator refuses the request (an unknown action, an ARN
//        that does not fit the action, a policy it finds invalid).
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const named = (prefix, docs) => docs.map((policy, i) => ({ name: `${prefix}-${i}`, policy }))

async function answer(c) {
  const context = {}
  for (const [key, values] of Object.entries(c.context)) {
    context[key] = values.length === 1 ? values[0] : values
  }
  const r = await runSimulation(
    {
      request: {
        principal: c.principal,
        action: c.action,
        resource: { resource: c.resource, accountId: c.resourceAccount },
        contextVariables: context
      },
      identityPolicies: named('identity', c.identity),
      permissionBoundaryPolicies: c.boundary ? named('boundary', [c.boundary]) : undefined,
      resourcePolicy: c.resourcePolicy ?? undefined,
      serviceControlPolicies: c.scps.length ? [{ orgIdentifier: 'o-guardrail', policies: named('scp', c.scps) }] : [],
      resourceControlPolicies: []
    },
    {}
  )
  if (r.resultType === 'error') {
    return { error: JSON.stringify(r.errors) }
  }
  const results = r.resultType === 'single' ? [r.result] : r.results
  const ignored = [...new Set(results.flatMap((x) => x.ignoredContextKeys ?? []))]
  return { result: r.overallResult, ignoredContextKeys: ignored }
}

for await (const line of createInterface({ input: process.stdin })) {
  let out
  try {
    out = await answer(JSON.parse(line))
  } catch (e) {
    out = { error: String(e && e.stack ? e.stack : e) }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}
