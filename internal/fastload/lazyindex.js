'use strict';
// Preloaded into jsii's Node processes (NODE_OPTIONS=--require) by
// internal/fastload. @cdktf/provider-aws's lib/index.js requires all of its
// ~2,000 resource modules up front, which is most of a synth's time although
// a stack uses a few dozen of them. When that file is nothing but
// `exports.x = require("./x");` re-exports, serve it as the same exports
// with each submodule required on first access. Any other shape is loaded
// normally, after one warning line.
const Module = require('module');
const fs = require('fs');
const path = require('path');

const PACKAGE = '@cdktf/provider-aws';
const PREFIX = 'landing-zone: fastload: ';
const installed = Symbol.for('landing-zone.fastload');

if (!globalThis[installed] && !['0', 'false'].includes(process.env.LZ_FASTLOAD)) {
  globalThis[installed] = true;
  const compile = Module._extensions['.js'];
  Module._extensions['.js'] = function (module, filename) {
    if (isProviderIndex(filename)) {
      const source = fs.readFileSync(filename, 'utf8');
      const plan = parse(source);
      if (plan.steps) {
        defineLazy(module, plan.steps);
        if (process.env.LZ_FASTLOAD_DEBUG) {
          process.stderr.write(`${PREFIX}lazy index for ${PACKAGE} (${plan.lazy} submodules)\n`);
        }
        return;
      }
      process.stderr.write(`${PREFIX}${filename} is not a plain list of re-exports ` +
        `(line ${plan.line}: ${JSON.stringify(plan.text.slice(0, 80))}); loading it normally\n`);
    }
    return compile.call(this, module, filename);
  };
}

// The kernel links the package in from its cache; depending on
// --preserve-symlinks the file's path is under node_modules/@cdktf/ or in
// that cache. The package.json beside lib/ names the package either way.
function isProviderIndex(filename) {
  if (!filename.endsWith(path.join(path.sep, 'lib', 'index.js'))) {
    return false;
  }
  try {
    const pkg = path.join(path.dirname(filename), '..', 'package.json');
    return JSON.parse(fs.readFileSync(pkg, 'utf8')).name === PACKAGE;
  } catch {
    return false;
  }
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

// defineLazy replays the steps so that the exports have the same keys in the
// same order, each re-export becoming a plain data property once read.
function defineLazy(module, steps) {
  const exports = module.exports;
  const settle = (name, value) => Object.defineProperty(exports, name, {
    value, writable: true, enumerable: true, configurable: true,
  });
  for (const step of steps) {
    if (step.esModule) {
      Object.defineProperty(exports, '__esModule', { value: true });
    } else if (step.declare) {
      for (const name of step.declare) {
        exports[name] = undefined;
      }
    } else {
      Object.defineProperty(exports, step.name, {
        enumerable: true,
        configurable: true,
        get: () => {
          const value = module.require(step.request);
          settle(step.name, value);
          return value;
        },
        set: (value) => settle(step.name, value),
      });
    }
  }
}
