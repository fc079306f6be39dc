/**
 * The credentials the plugin gives every function and its own SDK clients (the emulators take any)
 * and, with `--apiAuth iam`, the only ones whose signatures the HTTP API accepts.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
