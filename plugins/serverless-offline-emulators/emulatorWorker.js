// The emulator thread's entry point: tsx compiles the TypeScript source on load, as in index.js.
const { require: tsxRequire } = require('tsx/cjs/api');

tsxRequire('./src/emulatorWorker.ts', __filename);
