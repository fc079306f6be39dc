/** What serverless.yml reads of http-api.js; the tests read its access log format and routes. */
export declare const ACCESS_LOG: Record<string, string>;
export declare const ROUTES: Record<string, [string, string]>;
