// Evaluates the IAM proof's requests with @cloud-copilot/iam-simulate, a
// policy engine that implements identity and resource policies, trust and
// KMS key policies, SCPs and permission boundaries, same- and
// cross-account. Run by internal/access (simulate.go) with the pinned Node:
//
//   node --input-type=module -e "$(cat simulate.mjs)" INPUT.json
//
// INPUT.json is {policies: {id: document}, requests: [{principal, action,
// resource, account, context, identity: [policy ids], resourcePolicy: id,
// rawKeys: [context keys], scps: [{orgIdentifier, policies: [ids]}]}]}. It prints one answer per request, in order:
// {result: Allowed | ExplicitlyDenied | ImplicitlyDenied | Error,
// decidedBy: [...], detail: "..."}.
//
// The engine validates every policy, action, resource and context key
// against its IAM data, and drops context keys that data does not list for
// the action. It lists no "sub" or "aud" key for AssumeRoleWithWebIdentity
// (IAM documents them for every OIDC provider) and cannot match the
// kms:EncryptionContext:<key> family, so a request whose dropped keys are
// all in rawKeys is evaluated again, after it validated, by the engine's
// core with its whole context, the way the library's runUnsafeSimulation
// does (which returns no analysis to explain the answer with). Any other
// dropped key is an error, never a silent change of the question.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

// The engine and the policy library are both loaded from their CommonJS
// builds, so that the validated policies, the engine and its internals are
// one copy of each, and so that a module's exports can be wrapped (below).
const require = createRequire(join(process.cwd(), 'package.json'))
const engine = dirname(require.resolve('@cloud-copilot/iam-simulate'))
const { runSimulation, getDenialReasons, getGrantReasons } = require('@cloud-copilot/iam-simulate')
const { createValidatedPolicy, validateIdentityPolicy, validateResourcePolicy, validateServiceControlPolicy, validateTrustPolicy, loadPolicy: loadPolicyCJS } = require('@cloud-copilot/iam-policy')
const { authorize } = require(join(engine, 'core_engine/CoreSimulatorEngine.js'))
const { AwsRequestImpl } = require(join(engine, 'request/request.js'))
const { RequestContextImpl } = require(join(engine, 'requestContext.js'))
const { DiscoveryContextKeyConstraints } = require(join(engine, 'context_keys/discoveryContextKeyConstraints.js'))

// runSimulation asks getResourceTypesForAction(service, action, resource)
// which of the action's resource types the resource is, a pure lookup in
// the engine's IAM data that matches the resource against every type's ARN
// pattern: a third of the engine's time, for ~800 distinct questions in
// ~2,200 requests. It is asked through the module's exports object at call
// time, so replacing the export with a memo (of the promise; runSimulation
// copies the array it resolves to and only reads the types) serves every
// repeat.
//
// LZ_ACCESS_PLAIN=1 runs the engine as it ran before these speed-ups (the
// memos here, the NotAction pruning in forService), for the test that
// proves they change no answer (simulate_test.go).
const plain = process.env.LZ_ACCESS_PLAIN === '1'
if (!plain) {
  const resourceTypes = require(join(engine, 'simulation_engine/resourceTypes.js'))
  const lookup = resourceTypes.getResourceTypesForAction
  const memo = new Map()
  resourceTypes.getResourceTypesForAction = (service, action, resource) => {
    const key = service + '\u0000' + action + '\u0000' + resource
    let p = memo.get(key)
    if (!p) {
      p = lookup(service, action, resource)
      memo.set(key, p)
    }
    return p
  }
  if (resourceTypes.getResourceTypesForAction === lookup) {
    throw new Error('cannot memoize the engine\'s getResourceTypesForAction: its export is not writable')
  }

  // The policy library compares condition operators with
  // caseInsensitiveEquals (a localeCompare) every time a condition is
  // evaluated: ~10% of the engine's time for a few dozen distinct pairs of
  // operator strings. Both helpers are pure and asked through the module's
  // exports at call time.
  const utils = require(join(dirname(require.resolve('@cloud-copilot/iam-policy')), 'utils.js'))
  for (const name of ['caseInsensitiveEquals', 'caseInsensitiveEndsWith']) {
    const fn = utils[name]
    const memo = new Map()
    utils[name] = (a, b) => {
      const key = a + '\u0000' + b
      let v = memo.get(key)
      if (v === undefined) {
        v = fn(a, b)
        memo.set(key, v)
      }
      return v
    }
    if (utils[name] === fn) throw new Error('cannot memoize the policy library\'s ' + name + ': its export is not writable')
  }
}

// raw evaluates a validated simulation with its whole context.
function raw(sim, resourcePolicyName) {
  const load = (p, name) => loadPolicyCJS(p, { name: name || 'resource policy' })
  return authorize({
    request: new AwsRequestImpl(sim.request.principal, sim.request.resource, sim.request.action, new RequestContextImpl(sim.request.contextVariables)),
    sessionPolicy: undefined,
    identityPolicies: sim.identityPolicies.map((p) => load(p.policy, p.name)),
    serviceControlPolicies: sim.serviceControlPolicies.map((l) => ({ orgIdentifier: l.orgIdentifier, policies: l.policies.map((p) => load(p.policy, p.name)) })),
    resourceControlPolicies: [],
    resourcePolicy: sim.resourcePolicy ? load(sim.resourcePolicy, resourcePolicyName) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
}

const input = JSON.parse(readFileSync(process.argv[process.argv.length - 1], 'utf8'))
const policies = input.policies

// Each policy is validated once per service, as the kind of policy it is
// used as; the engine reuses the result for every request that names it.
// For a request to one service, a named statement's Action list keeps only
// the patterns that can match that service (ReadOnlyAccess lists 2,677;
// matching them all is most of the engine's time). That changes no answer:
// a pattern of another service never matches the request's action, and
// statements without a Sid (named by their position) are kept whole. A
// NotAction list (an SCP that denies other regions lists 86) keeps the
// patterns of the service likewise, in every statement, which is never
// dropped: if none is left, its first pattern stays, which matches no
// action of the service, as all of them did.
const validated = new Map()
function policy(id, kind, service) {
  const key = kind + '\u0000' + id + '\u0000' + service
  if (!validated.has(key)) {
    const fn = { identity: validateIdentityPolicy, trust: validateTrustPolicy, resource: validateResourcePolicy, scp: validateServiceControlPolicy }[kind]
    validated.set(key, createValidatedPolicy(forService(policies[id], service), fn, { name: id }))
  }
  return validated.get(key)
}

function serviceMatches(pattern, service) {
  const i = pattern.indexOf(':')
  if (i < 0) return true
  const svc = pattern.slice(0, i).toLowerCase()
  if (!/[*?]/.test(svc)) return svc === service
  return new RegExp('^' + svc.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$').test(service)
}

function forService(doc, service) {
  if (!doc || !Array.isArray(doc.Statement)) return doc
  const statements = []
  for (let st of doc.Statement) {
    if (!plain && Array.isArray(st.NotAction)) {
      const notActions = st.NotAction.filter((a) => serviceMatches(a, service))
      st = { ...st, NotAction: notActions.length ? notActions : st.NotAction.slice(0, 1) }
    }
    if (!st.Sid || !st.Action) {
      statements.push(st)
      continue
    }
    const actions = [].concat(st.Action).filter((a) => serviceMatches(a, service))
    if (actions.length) statements.push({ ...st, Action: actions })
  }
  return { ...doc, Statement: statements }
}

function simulation(r) {
  const service = r.action.split(':')[0].toLowerCase()
  return {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.account },
      contextVariables: r.context || {}
    },
    identityPolicies: (r.identity || []).map((id) => ({ name: id, policy: policy(id, 'identity', service) })),
    // Service control policies over a member account's principal, root
    // first, one entry per level (internal/access/organization.go).
    serviceControlPolicies: (r.scps || []).map((l) => ({
      orgIdentifier: l.orgIdentifier,
      policies: l.policies.map((id) => ({ name: id, policy: policy(id, 'scp', service) }))
    })),
    resourceControlPolicies: [],
    resourcePolicy: r.resourcePolicy ? policy(r.resourcePolicy, service === 'sts' ? 'trust' : 'resource', service) : undefined
  }
}

// statementName names a statement: "policy#Sid" or "policy#3".
function statementName(policy, s) {
  return (policy || 'resource policy') + '#' + (s.statementId || s.statementIndex)
}

// nearMisses describes statements that match the action and resource but
// not the principal or a condition: usually the reason for a denial.
function nearMisses(analysis, policyName) {
  const out = []
  for (const s of analysis?.unmatchedStatements || []) {
    const e = s.explain
    if (!e || !e.actionMatch || !e.resourceMatch) continue
    const why = []
    if (e.principalMatch === 'NoMatch') why.push('principal ' + JSON.stringify((e.principals || []).map((p) => p.principal)) + ' is not the caller')
    for (const c of e.conditions || []) {
      if (c.matches) continue
      const values = [].concat(c.values || []).map((v) => (v && typeof v === 'object' && 'value' in v ? v.value : v))
      why.push(c.operator + ' ' + c.conditionKeyValue + (c.failedBecauseMissing ? ' (absent)' : '') + ' wants ' + JSON.stringify(values))
    }
    if (why.length) out.push((s.policyId || policyName) + '#' + e.identifier + ': ' + why.join('; '))
  }
  return out
}

function explain(r, result) {
  const analysis = result.analysis || result
  const decision = analysis.result
  const resourceName = r.resourcePolicy || 'resource policy'
  if (decision === 'Allowed') {
    const grants = getGrantReasons(analysis).map((g) => statementName(g.policyType === 'resource' ? resourceName : g.policyIdentifier, g))
    return { result: decision, decidedBy: grants, detail: 'allowed by ' + grants.join(', ') }
  }
  const denials = getDenialReasons(analysis)
  const explicit = denials.filter((d) => d.denialType === 'Explicit')
    .map((d) => statementName(d.policyType === 'resource' ? resourceName : d.policyIdentifier, d))
  if (explicit.length) {
    return { result: decision, decidedBy: explicit, detail: 'denied by ' + explicit.join(', ') }
  }
  const parts = []
  for (const d of denials) {
    if (d.policyType === 'identity' && (r.identity || []).length) parts.push('no statement of ' + r.identity.join(', ') + ' allows it')
    else if (d.policyType === 'resource') parts.push(resourceName + ' does not allow it' + (analysis.sameAccount ? '' : ' (another account: it must name the caller or its account)'))
    else if (d.policyType !== 'identity') parts.push(d.policyType + ' denies it')
  }
  const misses = [...nearMisses(analysis.identityAnalysis, 'identity'), ...nearMisses(analysis.resourceAnalysis, resourceName)]
  if (misses.length) parts.push('closest: ' + misses.join(' | '))
  return { result: decision, decidedBy: denials.map((d) => d.policyType), detail: parts.join('; ') || 'implicitly denied' }
}

async function answer(r) {
  let sim = simulation(r)
  let res = await runSimulation(sim, {})
  if (res.resultType === 'error' && res.errors?.message === 'must.use.wildcard') {
    // Actions without resources (Describe*, List*) are asked on "*".
    r = { ...r, resource: '*' }
    sim = simulation(r)
    res = await runSimulation(sim, {})
  }
  if (res.resultType === 'error') {
    return { result: 'Error', detail: 'the engine rejected the request: ' + JSON.stringify(res.errors) }
  }
  const ignored = (res.resultType === 'single' ? res.result.ignoredContextKeys : res.results.flatMap((x) => x.ignoredContextKeys || [])) || []
  const rawKeys = new Set((r.rawKeys || []).map((k) => k.toLowerCase()))
  const unexpected = ignored.filter((k) => !rawKeys.has(k.toLowerCase()))
  if (unexpected.length) {
    return { result: 'Error', detail: 'context keys ' + unexpected.join(', ') + ' do not apply to ' + r.action }
  }
  if (ignored.length) {
    return explain(r, raw(sim, r.resourcePolicy))
  }
  if (res.resultType === 'single') return explain(r, res.result)
  // A wildcard resource: the overall result, explained by its first result.
  const first = res.results.find((x) => x.analysis.result === res.overallResult) || res.results[0]
  return first ? explain(r, first) : { result: res.overallResult, decidedBy: [], detail: 'no policy names a matching resource' }
}

const out = []
for (const r of input.requests) {
  try {
    out.push(await answer(r))
  } catch (e) {
    out.push({ result: 'Error', detail: String(e && e.message ? e.message : e) })
  }
}
process.stdout.write(JSON.stringify(out))
