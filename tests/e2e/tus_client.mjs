// tus_client.mjs - the real tus-js-client (npm, Node build) against /api/v1/uploads, run by
// test_tus_client.py. Uploads FILE in CHUNK-byte PATCHes, aborts once ABORT_AT bytes are
// acknowledged, then, like an app started again, finds the upload in its URL storage and
// resumes it from the server's offset to the end. Prints one JSON line:
//   {videoId, url, abortedAt, resumedFrom, firstOffsets: [...], patches}
// Usage: node tus_client.mjs BASE_URL TOKEN FILE CHUNK ABORT_AT URL_STORE
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const tus = require('tus-js-client');

const [base, token, file, chunkArg, abortArg, store] = process.argv.slice(2);
const chunkSize = Number(chunkArg);
const abortAt = Number(abortArg);
const size = fs.statSync(file).size;
const patchOffsets = [];
let videoId = null;

function options(extra) {
  return {
    endpoint: `${base}/api/v1/uploads`,
    chunkSize,
    uploadSize: size,
    retryDelays: [0, 200, 500],
    metadata: { filename: path.basename(file), filetype: 'video/x-msvideo', title: 'Resumed upload', tags: 'tus,interop' },
    headers: { Authorization: `Bearer ${token}` },
    urlStorage: new tus.FileUrlStorage(store),
    fingerprint: async () => `stremora-test-${path.basename(file)}-${size}`,
    onBeforeRequest(req) {
      if (req.getMethod() === 'PATCH') {
        patchOffsets.push(Number(req.getHeader('Upload-Offset')));
      }
    },
    onAfterResponse(req, res) {
      const id = res.getHeader('Stremora-Video-Id');
      if (id) videoId = id;
    },
    ...extra,
  };
}

function run(upload) {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = () => resolve('done');
    upload.options.onError = (err) => reject(err);
    upload.start();
  });
}

// Phase 1: upload until ABORT_AT bytes are acknowledged, then abort as a closed tab would.
let abortedAt = -1;
const first = new tus.Upload(fs.createReadStream(file, { highWaterMark: 1 << 20 }), options({}));
await new Promise((resolve, reject) => {
  first.options.onChunkComplete = (_n, acked) => {
    if (abortedAt < 0 && acked >= abortAt) {
      abortedAt = acked;
      first.abort(false).then(resolve, reject);
    }
  };
  first.options.onSuccess = () => reject(new Error('finished before the abort point'));
  first.options.onError = reject;
  first.start();
});
const url = first.url;
const firstOffsets = patchOffsets.splice(0);

// Phase 2: a new Upload finds the stored URL and resumes from the server's offset.
const second = new tus.Upload(fs.createReadStream(file, { highWaterMark: 1 << 20 }), options({}));
const previous = await second.findPreviousUploads();
if (previous.length !== 1) throw new Error(`expected one stored upload, found ${previous.length}`);
second.resumeFromPreviousUpload(previous[0]);
await run(second);
console.log(JSON.stringify({
  videoId, url, abortedAt, resumedFrom: patchOffsets[0] ?? null, firstOffsets,
  patches: firstOffsets.length + patchOffsets.length, resumedUrl: second.url,
}));
