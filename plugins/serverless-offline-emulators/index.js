// The plugin is written in TypeScript; tsx's CommonJS API compiles it on load (no build step).
const { require: tsxRequire } = require('tsx/cjs/api');

module.exports = tsxRequire('./src/plugin.ts', __filename).ServerlessOfflineEmulators;
