'use strict';
// Preloaded into jsii's Node process (NODE_OPTIONS=--require) by
// internal/fastload. Each speed-up recognizes the exact code it changes;
// code of any other shape is loaded unchanged after one warning line, so an
// upgrade of jsii, cdktf or the provider can cost speed, never correctness.
// LZ_FASTLOAD=0 turns them all off, LZ_FASTLOAD_SKIP=name,... some of them,
// and LZ_FASTLOAD_DEBUG=1 says on stderr which ones took effect.
//
//   lazy-index    @cdktf/provider-aws's lib/index.js requires all of its
//                 ~2,000 resource modules up front, although a stack uses a
//                 few dozen: serve the same exports, each module required on
//                 first access.
//   lazy-types    the kernel parses the provider's 114 MB type assembly
//                 (.jsii) whole, although a synth looks up a few hundred of
//                 its 22,000 types: split it once into a cache (the type
//                 texts and an index) and parse each type on first lookup.
//   one-process   jsii's runtime starts a second Node process for its kernel
//                 and relays every request and response through the first:
//                 four process hops per call, thousands of calls per synth.
//                 Run the kernel in the first process, on the same pipes.
//   kernel        the kernel formats a type reference into an assertion
//                 message for every value it converts, even when the
//                 assertion holds: format it only when it fails.
//   stack-traces  cdktf formats a full stack trace for every token, used
//                 only in error messages: format it when it is read.
//   version-once  cdktf runs `terraform version` (execSync, ~70 ms) once
//                 per stack with moved blocks, to check each stack's
//                 constraint: run it once per command, working directory
//                 and environment, and check every constraint against that
//                 output. A failure is not kept: the next check runs the
//                 command again and reports its own error, as before.
//   no-prepare    cdktf resolves every element of every stack twice: a
//                 "preparing" pass, whose only effect is to register
//                 references from one stack to another (an output there, a
//                 remote state here), then the real one. The landing zone's
//                 stacks never refer to each other (each is deployed on its
//                 own, from config), so skip the first pass, and make the
//                 second throw, naming the reference, if one ever does:
//                 a stack can never be written without what it refers to.
//                 The pass is skipped only if that check is in place.
//   is-array      cdktf calls util.isArray, which Node 22 reports as
//                 deprecated on every synth (a warning no user can act on):
//                 call Array.isArray, the function it stands for.
const Module = require('module');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const PREFIX = 'landing-zone: fastload: ';

function warn(message) {
  process.stderr.write(`${PREFIX}${message}\n`);
}

function note(message) {
  if (process.env.LZ_FASTLOAD_DEBUG) {
    process.stderr.write(`${PREFIX}${message}\n`);
  }
}

const skipped = new Set((process.env.LZ_FASTLOAD_SKIP || '').split(',').map((s) => s.trim()));
const on = (name) => !skipped.has(name);

// occursOnce says whether source holds text exactly once: the shape every
// edit requires of the code it changes.
function occursOnce(source, text) {
  const at = source.indexOf(text);
  return at >= 0 && source.indexOf(text, at + 1) < 0;
}

// edit makes each [from, to] replacement of edits whose `from` occurs
// exactly once, and warns about, and leaves out, the others.
function edit(filename, source, edits) {
  const done = new Set();
  for (const { name, from, to } of edits) {
    if (!occursOnce(source, from)) {
      warn(`${filename} does not hold the code ${name} changes ` +
        `(${JSON.stringify(from.slice(0, 60))}); ${name} is off`);
      continue;
    }
    source = source.replace(from, () => to);
    done.add(name);
  }
  done.forEach((name) => note(`${name}: ${filename}`));
  return source;
}

// editing is a loader that compiles a file with the edits that edits()
// returns made, and calls whenEdited, if given, once they changed it.
function editing(edits, whenEdited) {
  return (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const edited = edit(filename, source, edits());
    if (whenEdited && edited !== source) {
      whenEdited();
    }
    module._compile(edited, filename);
    return true;
  };
}

// packageName names the npm package a file under lib/ belongs to. The
// kernel links packages in from its cache; depending on --preserve-symlinks
// the path is under node_modules/ or in that cache, so the package.json is
// the reliable name.
function packageName(filename) {
  const lib = filename.lastIndexOf(`${path.sep}lib${path.sep}`);
  if (lib < 0) {
    return undefined;
  }
  try {
    return JSON.parse(fs.readFileSync(path.join(filename.slice(0, lib), 'package.json'), 'utf8')).name;
  } catch {
    return undefined;
  }
}

function inPackage(filename, name, file) {
  return filename.endsWith(path.join(path.sep, 'lib', file)) && packageName(filename) === name;
}

// defineLazy gives object an enumerable property key whose value compute
// makes on first read; from then on (or once assigned) it is a plain data
// property.
function defineLazy(object, key, compute) {
  const settle = (value) => Object.defineProperty(object, key, {
    value, writable: true, enumerable: true, configurable: true,
  });
  Object.defineProperty(object, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}

// --- the kernel ---------------------------------------------------------------

// The edited kernel loads assemblies through the global this key names.
const ASSEMBLY_KEY = 'landing-zone.fastload.assembly';

const KERNEL_ASSERT = {
  name: 'kernel',
  from: 'assert(typeRef != null, `Kernel error: expected type information, got ${(0, util_1.inspect)(typeRef)}`);',
  to: 'if (typeRef == null) assert(false, `Kernel error: expected type information, got ${(0, util_1.inspect)(typeRef)}`);',
};

const KERNEL_ASSEMBLY = {
  name: 'lazy-types',
  from: 'spec.loadAssemblyFromPath(packageDir, this.validateAssemblies)',
  to: `globalThis[Symbol.for(${JSON.stringify(ASSEMBLY_KEY)})](packageDir, this.validateAssemblies, spec.loadAssemblyFromPath)`,
};

// The kernel reads and writes requests on fd 3, its socket to the relay; in
// one process that is the relay's own stdin and stdout.
const KERNEL_FDS = {
  name: 'one-process',
  from: `readFD: 3,
        writeFD: 3`,
  to: `readFD: 0,
        writeFD: 1`,
};

function kernelEdits() {
  return [KERNEL_ASSERT, KERNEL_ASSEMBLY].filter((e) => on(e.name));
}

function isKernel(filename) {
  return filename.endsWith(path.join(path.sep, 'lib', 'program.js')) &&
    fs.existsSync(path.join(path.dirname(filename), '..', 'bin', 'jsii-runtime.js'));
}

// --- one process --------------------------------------------------------------

// The relay starts the kernel with --preserve-symlinks, which the kernel's
// package cache needs; in one process it must come from NODE_OPTIONS, where
// internal/fastload puts it.
function isRelay(filename) {
  return filename === path.resolve(process.argv[1] || '') &&
    filename.endsWith(path.join(path.sep, 'bin', 'jsii-runtime.js')) &&
    (process.env.NODE_OPTIONS || '').split(/\s+/).includes('--preserve-symlinks');
}

// runKernelHere loads the kernel in place of the relay. Standard output is
// the response channel now, so what code prints there goes to stderr,
// wrapped the way the relay wraps it ({"stdout": base64}) for the Go side to
// unwrap.
function runKernelHere(module, filename) {
  const kernel = path.join(path.dirname(filename), '..', 'lib', 'program.js');
  const source = fs.readFileSync(kernel, 'utf8');
  if (!occursOnce(source, KERNEL_FDS.from)) {
    warn(`${kernel} does not read its requests from fd 3 as expected; one-process is off`);
    return false;
  }
  redirectStdio();
  // The kernel links cached packages with one symlink, rather than a hard
  // link per file, when it sees the flag it is normally started with.
  if (!process.execArgv.includes('--preserve-symlinks')) {
    process.execArgv.push('--preserve-symlinks');
  }
  const child = new Module(kernel, module);
  child.filename = kernel;
  child.paths = Module._nodeModulePaths(path.dirname(kernel));
  Module._cache[kernel] = child;
  child._compile(edit(kernel, source, [KERNEL_FDS, ...kernelEdits()]), kernel);
  child.loaded = true;
  return true;
}

function redirectStdio() {
  const { Writable, Readable } = require('stream');
  const stdout = new Writable({
    write(chunk, encoding, done) {
      const data = Buffer.from(chunk, encoding).toString('base64');
      fs.writeSync(2, `${JSON.stringify({ stdout: data })}\n`);
      done();
    },
  });
  // A stream on stdin would race the kernel's synchronous reads of fd 0.
  const stdin = Readable.from([]);
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => stdout });
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, get: () => stdin });
}

// --- lazy types ---------------------------------------------------------------

// Smaller assemblies (cdktf's is 4 MB) parse faster than a split would pay.
// LZ_FASTLOAD_LAZY_MIN_BYTES lowers the limit for tests.
const LAZY_MIN_BYTES = Number(process.env.LZ_FASTLOAD_LAZY_MIN_BYTES) || 32 << 20;

// loadAssembly is the kernel's loadAssemblyFromPath (load), with the types
// of a large assembly served from the split cache that its first load
// writes. JSII_VALIDATE_ASSEMBLIES validates the whole document, so it gets
// the whole document.
function loadAssembly(dir, validate, load) {
  const cache = process.env.LZ_FASTLOAD_CACHE;
  const base = cache && !validate && splitName(cache, dir);
  if (!base) {
    return load(dir, validate);
  }
  const lazy = openSplit(base);
  if (lazy) {
    note(`lazy-types: ${lazy.name} from ${base}`);
    return lazy;
  }
  const assembly = load(dir, validate);
  try {
    writeSplit(base, assembly);
    note(`lazy-types: split ${assembly.name} into ${base}`);
  } catch (e) {
    warn(`cannot cache ${assembly.name}'s types in ${cache} (${e.message}); they load whole`);
  }
  return assembly;
}

// splitName names a package's split cache by its name, version and .jsii
// content (size and the hash of both ends: the fingerprint is at the end),
// so that every kernel working directory shares it. Undefined means: load
// whole.
function splitName(cache, dir) {
  try {
    const file = path.join(dir, '.jsii');
    const { size } = fs.statSync(file);
    if (size < LAZY_MIN_BYTES) {
      return undefined;
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const hash = crypto.createHash('sha256').update(`${pkg.name}@${pkg.version}\0${size}\0`);
    const fd = fs.openSync(file, 'r');
    try {
      const end = Buffer.alloc(64 << 10);
      hash.update(end.subarray(0, fs.readSync(fd, end, 0, end.length, 0)));
      hash.update(end.subarray(0, fs.readSync(fd, end, 0, end.length, Math.max(0, size - end.length))));
    } finally {
      fs.closeSync(fd);
    }
    const label = `${pkg.name}@${pkg.version}`.replace(/[^\w.@-]+/g, '-');
    return path.join(cache, `types-${label}-${hash.digest('hex').slice(0, 16)}`);
  } catch {
    return undefined;
  }
}

// writeSplit writes the type texts, then the index that names them, each
// renamed into place: a reader that finds the index finds whole texts, and
// processes writing at once each leave a whole, identical file. Splits of
// the package's other versions are removed.
function writeSplit(base, assembly) {
  const dir = path.dirname(base);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const texts = [];
  const index = [];
  let size = 0;
  for (const [fqn, type] of Object.entries(assembly.types || {})) {
    const text = Buffer.from(JSON.stringify(type));
    texts.push(text);
    index.push(fqn, size, text.length);
    size += text.length;
  }
  // null keeps the key's place, so the served object has the same key order.
  const skeleton = { ...assembly, types: null };
  writeRenamed(`${base}.types`, Buffer.concat(texts, size));
  writeRenamed(`${base}.json`, JSON.stringify({ size, index, skeleton }));
  const name = path.basename(base);
  const pkg = name.slice(0, name.lastIndexOf('@') + 1);
  for (const old of fs.readdirSync(dir)) {
    if (old.startsWith(pkg) && !old.startsWith(name)) {
      fs.rmSync(path.join(dir, old), { force: true });
    }
  }
}

function writeRenamed(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

// openSplit serves the assembly from its split, each type parsed on first
// lookup, or returns undefined when there is no whole split.
function openSplit(base) {
  let meta;
  let fd;
  try {
    meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8'));
    fd = fs.openSync(`${base}.types`, 'r');
  } catch {
    return undefined;
  }
  if (fs.fstatSync(fd).size !== meta.size) {
    fs.closeSync(fd);
    return undefined;
  }
  const types = {};
  const { index } = meta;
  for (let i = 0; i < index.length; i += 3) {
    const [fqn, offset, length] = [index[i], index[i + 1], index[i + 2]];
    defineLazy(types, fqn, () => {
      const text = Buffer.allocUnsafe(length);
      fs.readSync(fd, text, 0, length, offset);
      return JSON.parse(text.toString('utf8'));
    });
  }
  meta.skeleton.types = types;
  return meta.skeleton;
}

// --- stack traces -------------------------------------------------------------

// The frames are captured as before (capturing is cheap); the array is
// formatted when first read. Only error messages read it.
const STACK_TRACE = {
  name: 'stack-traces',
  from: `    if (!object.stack) {
        return [];
    }
    return object.stack
        .split("\\n")
        .slice(1)
        .map((s) => s.replace(/^\\s*at\\s+/, ""));`,
  to: `    let lines;
    const read = () => lines || (lines = !object.stack ? [] : object.stack
        .split("\\n")
        .slice(1)
        .map((s) => s.replace(/^\\s*at\\s+/, "")));
    return new Proxy([], {
        get: (_, key) => { const l = read(); const v = Reflect.get(l, key, l); return typeof v === "function" ? v.bind(l) : v; },
        has: (_, key) => Reflect.has(read(), key),
        ownKeys: () => Reflect.ownKeys(read()),
        getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(read(), key),
    });`,
};

// Assigning stack up front would read it back formatted at once.
const STACK_OBJECT = { name: 'stack-traces', from: 'const object = { stack: "" };', to: 'const object = {};' };

// --- version once --------------------------------------------------------------

// The edited validation reads the command's output through the global this
// key names.
const VERSION_KEY = 'landing-zone.fastload.version-output';

// The binary a version command runs does not change during a synth, but
// which one it is may depend on the working directory (tfenv reads
// .terraform-version) and the environment (PATH, TFENV_TERRAFORM_VERSION):
// they are part of the key. Only output is kept: a command that fails
// throws to its validation, which reports the error as before, and the next
// validation runs it again and reports its own error, exactly as without
// this part.
const versionOutputs = new Map();

function versionOutput(command, run) {
  const key = JSON.stringify([command, process.cwd(), Object.entries(process.env)]);
  let output = versionOutputs.get(key);
  if (output === undefined) {
    output = run();
    versionOutputs.set(key, output);
    note(`version-once: ran ${JSON.stringify(command)}`);
  }
  return output;
}

const VERSION_ONCE = {
  name: 'version-once',
  from: `const versionOfCommand = (0, child_process_1.execSync)(this.versionCommand, {
                stdio: "pipe",
            }).toString();`,
  to: `const versionOfCommand = globalThis[Symbol.for(${JSON.stringify(VERSION_KEY)})](this.versionCommand, () => (0, child_process_1.execSync)(this.versionCommand, {
                stdio: "pipe",
            }).toString());`,
};

// --- no prepare ---------------------------------------------------------------

// Set once the check below is compiled into tfExpression.js: the preparing
// pass is skipped only then.
const PREPARE_KEY = 'landing-zone.fastload.no-prepare';

const NO_PREPARE = {
  name: 'no-prepare',
  from: 'terraformElements(this).forEach((e) => (0, _tokens_1.resolve)(this, e.toTerraform(), true));',
  to: `if (!globalThis[Symbol.for(${JSON.stringify(PREPARE_KEY)})]) terraformElements(this).forEach((e) => (0, _tokens_1.resolve)(this, e.toTerraform(), true));`,
};

// Without the preparing pass, a reference to another stack would resolve
// to an address that stack does not export: refuse it instead.
const CROSS_STACK_CHECK = {
  name: 'no-prepare',
  from: '        // If this is a cross stack reference we will resolve to a reference within this stack.\n',
  to: `        if (!context.preparing && globalThis[Symbol.for(${JSON.stringify(PREPARE_KEY)})] && this.originStack && this.originStack !== resolutionStack && !this.crossStackIdentifier[stackName]) {
            throw new Error("landing-zone: " + stackName + " refers to " + this.identifier + " of stack " + this.originStack + ": the landing zone's stacks are deployed one by one and never refer to each other (pass the value through config instead). To synthesize such a reference anyway, run with LZ_FASTLOAD_SKIP=no-prepare.");
        }
        // If this is a cross stack reference we will resolve to a reference within this stack.\n`,
};

// --- is-array -----------------------------------------------------------------

const IS_ARRAY = { name: 'is-array', from: '!(0, util_2.isArray)(object) &&', to: '!Array.isArray(object) &&' };

// --- lazy index ---------------------------------------------------------------

const PROVIDER = '@cdktf/provider-aws';

function loadLazyIndex(module, filename) {
  const plan = parse(fs.readFileSync(filename, 'utf8'));
  if (!plan.steps) {
    warn(`${filename} is not a plain list of re-exports ` +
      `(line ${plan.line}: ${JSON.stringify(plan.text.slice(0, 80))}); loading it normally`);
    return false;
  }
  replay(module.exports, plan.steps, (request) => module.require(request));
  note(`lazy-index: ${PROVIDER} (${plan.lazy} submodules)`);
  return true;
}

const IGNORED = /^(?:|"use strict";|\/\/.*)$/;
const ES_MODULE = /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/;
const DECLARE = /^(?:exports\.[A-Za-z_$][\w$]* = )+void 0;$/;
const REEXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;

// parse turns the file into the steps that running it would take, or says
// which line does not fit. Block comments (the licence header) are dropped.
function parse(source) {
  // Blanking keeps the line numbers.
  const lines = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, '')).split('\n');
  const steps = [];
  let lazy = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    let m;
    if (IGNORED.test(text)) {
      continue;
    } else if (ES_MODULE.test(text)) {
      steps.push({ esModule: true });
    } else if (DECLARE.test(text)) {
      // `exports.a = exports.b = void 0` creates b first, then a.
      const names = text.match(/exports\.[\w$]+/g).map((s) => s.slice(8)).reverse();
      steps.push({ declare: names });
    } else if ((m = REEXPORT.exec(text))) {
      steps.push({ name: m[1], request: m[2] });
      lazy++;
    } else {
      return { line: i + 1, text };
    }
  }
  if (lazy === 0) {
    return { line: 1, text: 'no re-exports' };
  }
  return { steps, lazy };
}

// replay runs the steps on exports so that they have the same keys in the
// same order, each re-export required on first read.
function replay(exports, steps, require) {
  for (const step of steps) {
    if (step.esModule) {
      Object.defineProperty(exports, '__esModule', { value: true });
    } else if (step.declare) {
      for (const name of step.declare) {
        exports[name] = undefined;
      }
    } else {
      defineLazy(exports, step.name, () => require(step.request));
    }
  }
}

// --- installation ---------------------------------------------------------------

// Each file goes to the first speed-up that claims it; one that declines
// (false) leaves it to the normal load.
const SPEEDUPS = [
  { applies: (f) => on('lazy-index') && inPackage(f, PROVIDER, 'index.js'), load: loadLazyIndex },
  { applies: (f) => on('one-process') && isRelay(f), load: runKernelHere },
  { applies: (f) => kernelEdits().length > 0 && isKernel(f), load: editing(kernelEdits) },
  {
    applies: (f) => on('stack-traces') && inPackage(f, 'cdktf', path.join('tokens', 'private', 'stack-trace.js')),
    load: editing(() => [STACK_OBJECT, STACK_TRACE]),
  },
  { applies: (f) => on('is-array') && inPackage(f, 'cdktf', 'terraform-output.js'), load: editing(() => [IS_ARRAY]) },
  { applies: (f) => on('no-prepare') && inPackage(f, 'cdktf', 'tfExpression.js'), load: editing(() => [CROSS_STACK_CHECK], () => { globalThis[Symbol.for(PREPARE_KEY)] = true; }) },
  { applies: (f) => on('no-prepare') && inPackage(f, 'cdktf', 'terraform-stack.js'), load: editing(() => [NO_PREPARE]) },
  {
    applies: (f) => on('version-once') && inPackage(f, 'cdktf', path.join('validations', 'validate-binary-version.js')),
    load: editing(() => [VERSION_ONCE]),
  },
];

const installed = Symbol.for('landing-zone.fastload');

if (!globalThis[installed] && !['0', 'false'].includes(process.env.LZ_FASTLOAD)) {
  globalThis[installed] = true;
  globalThis[Symbol.for(ASSEMBLY_KEY)] = loadAssembly;
  globalThis[Symbol.for(VERSION_KEY)] = versionOutput;
  const compile = Module._extensions['.js'];
  Module._extensions['.js'] = function (module, filename) {
    const speedup = SPEEDUPS.find((s) => s.applies(filename));
    if (speedup && speedup.load(module, filename)) {
      return undefined;
    }
    return compile.call(this, module, filename);
  };
}
