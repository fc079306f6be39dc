/** resources/http-api.js, read by serverless.yml; the tests read its access log format. */
declare module '*/resources/http-api' {
  export const ACCESS_LOG: Record<string, string>;
  export const ROUTES: Record<string, [string, string]>;
}
