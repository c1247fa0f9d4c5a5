#!/usr/bin/env node
// Local stand-ins for the services behind the S3 state backend, for tests:
// s3rver for S3 (objects in a temporary folder) and dynalite for DynamoDB
// (in memory), both on 127.0.0.1. Ports come from LZ_S3_PORT and
// LZ_DYNAMODB_PORT, or are picked free. Once both listen it prints
//   LZ_S3_ENDPOINT=http://127.0.0.1:<port>
//   LZ_DYNAMODB_ENDPOINT=http://127.0.0.1:<port>
// and runs until SIGINT or SIGTERM, or, with --stop-on-stdin-eof, until its
// stdin closes (so a test that dies cannot leave them running).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const S3rver = require('s3rver');
const dynalite = require('dynalite');

const host = '127.0.0.1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lz-s3rver-'));

async function main() {
  const s3 = new S3rver({ address: host, port: Number(process.env.LZ_S3_PORT || 0), directory: dir, silent: true });
  const s3Addr = await s3.run();
  // Tables become ACTIVE at once: nothing here waits for them.
  const ddb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise((resolve, reject) => ddb.once('error', reject).listen(Number(process.env.LZ_DYNAMODB_PORT || 0), host, resolve));

  // The data is throwaway: no need to drain connections before exiting.
  const stop = () => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  if (process.argv.includes('--stop-on-stdin-eof')) {
    process.stdin.on('end', stop).resume();
  }
  process.stdout.write(
    `LZ_S3_ENDPOINT=http://${host}:${s3Addr.port}\n` + `LZ_DYNAMODB_ENDPOINT=http://${host}:${ddb.address().port}\n`,
  );
}

main().catch(err => {
  console.error(err);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
